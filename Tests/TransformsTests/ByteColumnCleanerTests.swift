import Foundation
@testable import Transforms
import XCTest

/// `ByteColumnCleaner` may decline any value, but whatever it accepts must be exactly `ColumnCleaner`'s value.
final class ByteColumnCleanerTests: XCTestCase {
    private func rule(_ type: CleaningRules.ColumnType, _ configure: (inout CleaningRules.ColumnRule) -> Void = { _ in }) -> CleaningRules.ColumnRule {
        var rule = CleaningRules.ColumnRule(name: "col", source: "col", type: type)
        configure(&rule)
        return rule
    }

    private func cleaners(_ rule: CleaningRules.ColumnRule, references: Set<String>? = nil) -> (ColumnCleaner, ByteColumnCleaner) {
        var cleaner = ColumnCleaner(rule: rule)
        cleaner.knownReferences = references.map { KnownKeys($0, integer: rule.type == .int) }
        return (cleaner, ByteColumnCleaner(cleaner))
    }

    /// The byte path's value, or nil when it leaves the value to ColumnCleaner.
    private func fastValue(_ raw: String, _ cleaner: ByteColumnCleaner) -> String? {
        let output = ByteBuffer(capacity: 16)
        output.append("prefix")
        let accepted = Array(raw.utf8).withUnsafeBufferPointer { cleaner.clean($0, into: output) }
        guard accepted else { return nil }
        XCTAssertEqual(Array(output.bytes(0..<6)), Array("prefix".utf8), "bytes before the value are kept")
        return String(decoding: output.bytes(6..<output.count), as: UTF8.self)
    }

    /// Every accepted value must match; returns how many the byte path accepted.
    @discardableResult
    private func assertAgrees(_ values: [String], _ rule: CleaningRules.ColumnRule, references: Set<String>? = nil,
                              file: StaticString = #filePath, line: UInt = #line) -> Int {
        let (general, fast) = cleaners(rule, references: references)
        var accepted = 0
        for raw in values {
            guard let value = fastValue(raw, fast) else { continue }
            accepted += 1
            guard case .value(let expected) = general.clean(raw) else {
                XCTFail("\(raw.debugDescription): byte path gave \(value.debugDescription), ColumnCleaner rejects it", file: file, line: line)
                continue
            }
            XCTAssertEqual(Array(value.utf8), Array(expected.utf8), "\(raw.debugDescription)", file: file, line: line)
        }
        return accepted
    }

    private func randomValues(_ pieces: [String], count: Int = 4000, maxPieces: Int = 6, seed: UInt64) -> [String] {
        var random = SeededGenerator(seed: seed)
        return (0..<count).map { _ in
            (0..<Int.random(in: 0...maxPieces, using: &random)).map { _ in pieces[Int.random(in: 0..<pieces.count, using: &random)] }.joined()
        }
    }

    func testTheUsualValuesTakeTheBytePath() throws {
        let (_, int) = cleaners(rule(.int) { $0.minimum = 1 }, references: ["5", "12"])
        XCTAssertEqual(fastValue("12", int), "12")
        XCTAssertEqual(fastValue("+0012", int), "12")
        XCTAssertNil(fastValue("13", int), "a foreign key miss goes to ColumnCleaner for its reason")
        XCTAssertNil(fastValue(" 12", int), "trimming goes to ColumnCleaner")
        let (_, decimal) = cleaners(rule(.decimal) { $0.scale = 2; $0.minimum = 0 })
        XCTAssertEqual(fastValue("19.90", decimal), "19.90")
        XCTAssertNil(fastValue("19.905", decimal), "rounding goes to ColumnCleaner")
        let (_, product) = cleaners(rule(.string) { $0.lowercase = true; $0.required = true })
        XCTAssertEqual(fastValue("Key,Board", product), "key,board")
        XCTAssertNil(fastValue("", product))
        XCTAssertNil(fastValue("Éclair", product), "non-ASCII goes to ColumnCleaner")
        let (_, optional) = cleaners(rule(.string))
        XCTAssertEqual(fastValue("", optional), "")
        let shopFormats = try ["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%d/%m/%Y %H:%M:%S"].map(DatePattern.init)
        let (_, timestamp) = cleaners(rule(.timestamp) { $0.formats = shopFormats })
        XCTAssertEqual(fastValue("2024-01-31T08:00:00+02:00", timestamp), "2024-01-31T06:00:00Z")
        XCTAssertEqual(fastValue("31/01/2024 08:00:00", timestamp), "2024-01-31T08:00:00Z", "the default zone needs no lookup")
        let (_, bool) = cleaners(rule(.bool))
        XCTAssertEqual(fastValue("YES", bool), "true")
        XCTAssertEqual(fastValue("0", bool), "false")
        let (_, date) = cleaners(rule(.date) { $0.formats = [try! DatePattern("%d/%m/%Y")] })
        XCTAssertEqual(fastValue("05/03/2024", date), "2024-03-05")
    }

    func testIntegers() {
        let values = randomValues(["0", "1", "9", "-", "+", " ", "007", "12345678901234567890", "922337203685477580", "a", "é", "\t"], seed: 1)
        XCTAssertGreaterThan(assertAgrees(values, rule(.int)), 500)
        assertAgrees(values, rule(.int) { $0.required = true; $0.minimum = 1; $0.maximum = 1000 })
        assertAgrees(values, rule(.int) { $0.trim = false })
        assertAgrees(values, rule(.int) { $0.acceptedValues = ["1", "7", "-9", "0"] })
        assertAgrees(values, rule(.int), references: Set((0..<200).map(String.init)) + ["007", "x"])
        assertAgrees(values, rule(.int) { $0.lowercase = true })
    }

    func testDecimals() {
        let values = randomValues(["0", "5", "9", ".", "-", "+", "e", "E", " ", "00", "1234567890123456", "0.1", "nan", "inf"], seed: 2)
        XCTAssertGreaterThan(assertAgrees(values, rule(.decimal)), 300)
        assertAgrees(values, rule(.decimal) { $0.scale = 2; $0.minimum = 0 })
        assertAgrees(values, rule(.decimal) { $0.scale = 0; $0.maximum = 10.5 })
        assertAgrees(values, rule(.decimal) { $0.required = true; $0.minimum = -0.5 })
        assertAgrees(values, rule(.decimal) { $0.uppercase = true })
    }

    func testStrings() {
        let values = randomValues(["a", "Z", "fr", "FR", " ", "\t", "\n", "\r", ",", "\"", "é", "É", "ß", "\u{FFFD}", "\u{0B}", "\u{A0}", "\u{0}", "de"], seed: 3)
        XCTAssertGreaterThan(assertAgrees(values, rule(.string)), 500)
        assertAgrees(values, rule(.string) { $0.required = true; $0.lowercase = true })
        assertAgrees(values, rule(.string) { $0.uppercase = true; $0.acceptedValues = ["FR", "DE", "É", "FRDE"] })
        assertAgrees(values, rule(.string) { $0.trim = false; $0.lowercase = true })
        assertAgrees(values, rule(.string) { $0.lowercase = true; $0.uppercase = true })
        assertAgrees(values, rule(.string) { $0.pattern = "^[a-z]+$" })
        assertAgrees(values, rule(.string), references: ["fr", "FR", "a", "Zde"])
        assertAgrees(values, rule(.string) { $0.minimum = 0 })
    }

    func testBooleans() {
        let values = randomValues(["t", "T", "rue", "RUE", "yes", "Y", "n", "o", "0", "1", "false", "FALSE", " ", "x", "é"], maxPieces: 3, seed: 4)
        XCTAssertGreaterThan(assertAgrees(values, rule(.bool)), 100)
        assertAgrees(values, rule(.bool) { $0.acceptedValues = ["true"]; $0.required = true })
        assertAgrees(values, rule(.bool) { $0.uppercase = true })
        assertAgrees(values, rule(.bool), references: ["false"])
    }

    func testDatesAndTimestamps() throws {
        var random = SeededGenerator(seed: 5)
        func digits(_ count: Int) -> String { (0..<count).map { _ in String(Int.random(in: 0...9, using: &random)) }.joined() }
        let separators = ["-", "/", "T", " ", ":", "+", "Z", "z", ".", "", "é"]
        var values: [String] = []
        for _ in 0..<6000 {
            var text = ""
            for _ in 0..<Int.random(in: 1...9, using: &random) {
                text += digits(Int.random(in: 1...4, using: &random)) + separators[Int.random(in: 0..<separators.count, using: &random)]
            }
            values.append(text)
        }
        // Plausible ones, so that many match.
        for _ in 0..<6000 {
            let year = ["0999", "1000", "1970", "2024", "2023", "9999", "1600"][Int.random(in: 0..<7, using: &random)]
            let month = String(format: "%02d", Int.random(in: 0...13, using: &random))
            let day = String(format: "%02d", Int.random(in: 0...32, using: &random))
            let time = String(format: "%02d:%02d:%02d", Int.random(in: 0...24, using: &random), Int.random(in: 0...60, using: &random), Int.random(in: 0...61, using: &random))
            let zone = ["", "Z", "z", "+02:00", "-0530", "+14", "-99:59", ".5Z", ".123456789+01:00"][Int.random(in: 0..<9, using: &random)]
            values += ["\(year)-\(month)-\(day)", "\(day)/\(month)/\(year)", "\(year)-\(month)-\(day)T\(time)\(zone)",
                       "\(year)-\(month)-\(day) \(time)", "\(day)/\(month)/\(year) \(time)", "\(year)/\(month)/\(day)"]
        }
        let dateFormats = try ["%Y-%m-%d", "%d/%m/%Y", "%Y/%m/%d"].map(DatePattern.init)
        let timestampFormats = try ["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%d/%m/%Y %H:%M:%S"].map(DatePattern.init)
        XCTAssertGreaterThan(assertAgrees(values, rule(.date) { $0.formats = dateFormats }), 1000)
        XCTAssertGreaterThan(assertAgrees(values, rule(.timestamp) { $0.formats = timestampFormats }), 1000)
        assertAgrees(values, rule(.date) { $0.formats = timestampFormats })
        assertAgrees(values, rule(.timestamp) { $0.formats = timestampFormats; $0.timeZone = try! XCTUnwrap(TimeZone(identifier: "Europe/Paris")) })
        assertAgrees(values, rule(.timestamp) { $0.formats = timestampFormats; $0.timeZone = try! XCTUnwrap(TimeZone(identifier: "UTC")) })
        assertAgrees(values, rule(.timestamp) { $0.formats = timestampFormats; $0.timeZone = try! XCTUnwrap(TimeZone(identifier: "America/New_York")) })
        assertAgrees(values, rule(.date) { $0.formats = dateFormats; $0.acceptedValues = ["2024-02-29"] })
        assertAgrees(values, rule(.timestamp) { $0.formats = [try! DatePattern("%Y·%m·%d")] })
        // The ISO defaults alone, dates taken from timestamps in a zone.
        XCTAssertGreaterThan(assertAgrees(values, rule(.timestamp)), 1000)
        XCTAssertGreaterThan(assertAgrees(values, rule(.date)), 1000)
        assertAgrees(values, rule(.date) { $0.timeZone = try! XCTUnwrap(TimeZone(identifier: "Asia/Kolkata")) })
        assertAgrees(values, rule(.date) { $0.timeZone = try! XCTUnwrap(TimeZone(identifier: "UTC")) })
    }

    func testISOForms() {
        var random = SeededGenerator(seed: 6)
        func pick(_ options: [String]) -> String { options[Int.random(in: 0..<options.count, using: &random)] }
        var values: [String] = []
        for _ in 0..<8000 {
            let date = pick(["2024-02-29", "2023-02-29", "1999-12-31", "2024-1-05", "0999-01-01", "2024-12-31"])
            let time = pick(["", "T23:59", "T00:00:00", " 12:30:45", "t12:30", "T24:00", "T12:60", "T23:59:60", "T1:00", "T12:30:4"])
            let fraction = pick(["", ".5", ",25", ".123456789012", ".", ","])
            let zone = pick(["", "Z", "z", "+02:00", "-0530", "+14", "-23:59", "+24:00", "+02:60", "+2", "+02:", "UTC", " "])
            values.append(date + time + fraction + zone)
        }
        for zone in ["UTC", "Europe/Paris", "America/New_York"] {
            let timeZone = TimeZone(identifier: zone)!
            assertAgrees(values, rule(.timestamp) { $0.timeZone = timeZone })
            assertAgrees(values, rule(.date) { $0.timeZone = timeZone })
        }
        XCTAssertGreaterThan(assertAgrees(values, rule(.timestamp)), 300)
    }

    func testUUIDs() {
        let values = randomValues(["0b9e4a52", "-", "3c1f", "4D7E", "9a2b", "6f1c8d3e5a70", "{", "}", "urn:uuid:", "g", " ", "é"], maxPieces: 10, seed: 7)
            + ["0b9e4a52-3c1f-4d7e-9a2b-6f1c8d3e5a70", "0B9E4A52-3C1F-4D7E-9A2B-6F1C8D3E5A70", "0b9e4a52-3c1f-4d7e-9a2b-6f1c8d3e5a7g",
               "0b9e4a52-3c1f-4d7e-9a2b:6f1c8d3e5a70", "0b9e4a52-3c1f-4d7e-9a2b-6f1c8d3e5a7/", "0b9e4a52-3c1f-4d7e-9a2b-6f1c8d3e5a7@"]
        XCTAssertGreaterThanOrEqual(assertAgrees(values, rule(.uuid)), 2)
        assertAgrees(values, rule(.uuid) { $0.uppercase = true; $0.required = true })
        assertAgrees(values, rule(.uuid), references: ["0b9e4a52-3c1f-4d7e-9a2b-6f1c8d3e5a70"])
        let (_, fast) = cleaners(rule(.uuid))
        XCTAssertEqual(fastValue("0B9E4A52-3C1F-4D7E-9A2B-6F1C8D3E5A70", fast), "0b9e4a52-3c1f-4d7e-9a2b-6f1c8d3e5a70")
        XCTAssertNil(fastValue("0b9e4a52-3c1f-4d7e-9a2b-6f1c8d3e5a7g", fast))
    }
}

private func + (lhs: Set<String>, rhs: [String]) -> Set<String> { lhs.union(rhs) }
