import Foundation
@testable import Transforms
import XCTest

final class ColumnCleanerTests: XCTestCase {
    private func rule(_ type: CleaningRules.ColumnType, _ configure: (inout CleaningRules.ColumnRule) -> Void = { _ in }) -> CleaningRules.ColumnRule {
        var rule = CleaningRules.ColumnRule(name: "col", source: "col", type: type)
        configure(&rule)
        return rule
    }

    private func clean(_ raw: String, _ rule: CleaningRules.ColumnRule, references: Set<String>? = nil) -> ColumnCleaner.Outcome {
        var cleaner = ColumnCleaner(rule: rule)
        cleaner.knownReferences = references.map { KnownKeys($0, integer: rule.type == .int) }
        return cleaner.clean(raw)
    }

    /// The cleaned value, or nil when rejected.
    private func value(_ raw: String, _ rule: CleaningRules.ColumnRule, references: Set<String>? = nil) -> String? {
        if case .value(let text) = clean(raw, rule, references: references) { return text }
        return nil
    }

    /// The name of the rule that rejected the value, or nil when accepted.
    private func rejection(_ raw: String, _ rule: CleaningRules.ColumnRule, references: Set<String>? = nil) -> String? {
        if case .rejected(let name, _) = clean(raw, rule, references: references) { return name }
        return nil
    }

    private func reason(_ raw: String, _ rule: CleaningRules.ColumnRule, references: Set<String>? = nil) -> String? {
        if case .rejected(_, let reason) = clean(raw, rule, references: references) { return reason }
        return nil
    }

    func testRequired() {
        let required = rule(.string) { $0.required = true }
        XCTAssertEqual(rejection("", required), "required")
        XCTAssertEqual(rejection("   \t", required), "required", "blank after trimming")
        XCTAssertEqual(reason("", required), "col is empty")
        XCTAssertEqual(value("x", required), "x")
        // Optional empty values pass through as empty, whatever the type.
        XCTAssertEqual(value("", rule(.int)), "")
        XCTAssertEqual(value("  ", rule(.date)), "")
        XCTAssertEqual(value("", rule(.int) { $0.minimum = 5 }), "")
    }

    func testStringIsKeptAsIs() {
        XCTAssertEqual(value("Hello, World", rule(.string)), "Hello, World")
        XCTAssertNil(rejection("anything 123 ✓", rule(.string)))
    }

    func testTrim() {
        XCTAssertEqual(value("  padded \t\r\n", rule(.string)), "padded")
        XCTAssertEqual(value("\u{A0}nbsp\u{A0}", rule(.string)), "nbsp")
        XCTAssertEqual(value("\u{A0}lead", rule(.string)), "lead")
        XCTAssertEqual(value("inner  space", rule(.string)), "inner  space")
        XCTAssertEqual(value("  padded ", rule(.string) { $0.trim = false }), "  padded ")
        XCTAssertEqual(value(" 42 ", rule(.int)), "42")
        XCTAssertEqual(rejection(" 42 ", rule(.int) { $0.trim = false }), "type")
    }

    func testLowercaseAndUppercase() {
        XCTAssertEqual(value("  Ada@Example.COM ", rule(.string) { $0.lowercase = true }), "ada@example.com")
        XCTAssertEqual(value("fr", rule(.string) { $0.uppercase = true }), "FR")
        XCTAssertEqual(value("Élan", rule(.string) { $0.uppercase = true }), "ÉLAN")
        XCTAssertEqual(value("MiXeD", rule(.string)), "MiXeD")
    }

    func testInt() {
        let int = rule(.int)
        XCTAssertEqual(value("42", int), "42")
        XCTAssertEqual(value("+42", int), "42")
        XCTAssertEqual(value("-7", int), "-7")
        XCTAssertEqual(value("007", int), "7")
        for bad in ["4.2", "4,2", "1e3", "forty", "--1", "0x10", "12abc", "9223372036854775808"] {
            XCTAssertEqual(rejection(bad, int), "type", bad)
        }
        XCTAssertEqual(reason("4.2", int), "col '4.2' is not a whole number")
    }

    func testDecimal() {
        let decimal = rule(.decimal)
        XCTAssertEqual(value("19.99", decimal), "19.99")
        XCTAssertEqual(value("+19.50", decimal), "19.5")
        XCTAssertEqual(value("-0.25", decimal), "-0.25")
        XCTAssertEqual(value("20", decimal), "20")
        XCTAssertEqual(value("1e3", decimal), "1000")
        XCTAssertEqual(value("2.5E2", decimal), "250")
        XCTAssertEqual(value(".5", decimal), "0.5")
        XCTAssertEqual(value("0.0000001", decimal), "0.0000001")
        // No exponent in the output, and no digit lost.
        XCTAssertEqual(value("1.234e-12", decimal), "0.000000000001234")
        XCTAssertEqual(value("1e20", decimal), "100000000000000000000")
        XCTAssertEqual(ColumnCleaner.format(1e-7, scale: nil), "0.0000001")
        for bad in ["1,5", "abc", "inf", "nan", "NaN", "infinity", "1e999", "0x1p3", "12 €", "--1"] {
            XCTAssertEqual(rejection(bad, decimal), "type", bad)
        }
        XCTAssertEqual(reason("1,5", decimal), "col '1,5' is not a number")
    }

    func testDecimalScaleRoundsHalfAwayFromZeroOnTheDecimalValue() {
        let money = rule(.decimal) { $0.scale = 2 }
        // 2.675 is 2.67499999999999982236431605997495353221893310546875 as a double: the rounding must follow
        // the decimal text, as documented, not the binary approximation.
        XCTAssertEqual(value("2.675", money), "2.68")
        XCTAssertEqual(value("-2.675", money), "-2.68")
        XCTAssertEqual(value("1.005", money), "1.01")
        XCTAssertEqual(value("0.125", money), "0.13")
        XCTAssertEqual(value("0.135", money), "0.14")
        XCTAssertEqual(value("2.665", money), "2.67")
        XCTAssertEqual(value("2.6749", money), "2.67")
        XCTAssertEqual(value("19.999", money), "20")
        XCTAssertEqual(value("3", money), "3")
        XCTAssertEqual(value("-0.001", money), "0")
        XCTAssertEqual(value("0.5", rule(.decimal) { $0.scale = 0 }), "1")
        XCTAssertEqual(value("-0.5", rule(.decimal) { $0.scale = 0 }), "-1")
        XCTAssertEqual(value("2.5", rule(.decimal) { $0.scale = 0 }), "3")
        XCTAssertEqual(value("1234.5678", rule(.decimal) { $0.scale = 3 }), "1234.568")
        XCTAssertEqual(ColumnCleaner.format(2.675, scale: 2), "2.68")
        XCTAssertEqual(ColumnCleaner.format(2.675, scale: nil), "2.675")
    }

    func testBool() {
        let bool = rule(.bool)
        for yes in ["true", "TRUE", "t", "Yes", "y", "1"] { XCTAssertEqual(value(yes, bool), "true", yes) }
        for no in ["false", "F", "no", "N", "0"] { XCTAssertEqual(value(no, bool), "false", no) }
        for bad in ["2", "oui", "on", "truthy"] { XCTAssertEqual(rejection(bad, bool), "type", bad) }
        XCTAssertEqual(reason("oui", bool), "col 'oui' is not true or false")
    }

    func testDate() throws {
        let date = rule(.date) { $0.formats = [try! DatePattern("%d/%m/%Y")] }
        XCTAssertEqual(value("2024-02-29", date), "2024-02-29")
        XCTAssertEqual(value("29/02/2024", date), "2024-02-29")
        XCTAssertEqual(value(" 1/3/2024 ", date), "2024-03-01")
        XCTAssertEqual(rejection("2023-02-29", date), "type")
        XCTAssertEqual(rejection("31/02/2024", date), "type")
        XCTAssertEqual(rejection("yesterday", date), "type")
        XCTAssertEqual(reason("yesterday", date), "col 'yesterday' is not an ISO 8601 date and matches none of the formats %d/%m/%Y")
        XCTAssertEqual(reason("yesterday", rule(.date)), "col 'yesterday' is not an ISO 8601 date")
    }

    func testTimestamp() throws {
        let timestamp = rule(.timestamp)
        XCTAssertEqual(value("2024-01-31T06:00:00", timestamp), "2024-01-31T06:00:00Z")
        XCTAssertEqual(value("2024-01-31T08:00:00+02:00", timestamp), "2024-01-31T06:00:00Z")
        XCTAssertEqual(value("2024-01-31T06:00:00.999Z", timestamp), "2024-01-31T06:00:00Z")
        XCTAssertEqual(value("2024-01-31 06:00", timestamp), "2024-01-31T06:00:00Z", "ISO 8601 without seconds")
        XCTAssertEqual(rejection("2024-01-31 06", timestamp), "type")

        let paris = rule(.timestamp) {
            $0.formats = [try! DatePattern("%d/%m/%Y %H:%M")]
            $0.timeZone = TimeZone(identifier: "Europe/Paris")!
        }
        XCTAssertEqual(value("15/01/2024 12:00", paris), "2024-01-15T11:00:00Z")
        XCTAssertEqual(value("15/07/2024 12:00", paris), "2024-07-15T10:00:00Z")
        // A naive timestamp in a date column keeps its date.
        XCTAssertEqual(value("2024-01-31T23:59:59", rule(.date)), "2024-01-31")
    }

    func testDateFromATimestampIsTheUTCDateUnlessAZoneIsSet() {
        let date = rule(.date)
        XCTAssertEqual(value("2024-01-25T09:55:57Z", date), "2024-01-25")
        XCTAssertEqual(value("2024-01-25T23:30:00-02:00", date), "2024-01-26", "01:30 UTC the next day")
        XCTAssertEqual(value("2024-01-25T00:30:00+01:00", date), "2024-01-24")
        let tokyo = rule(.date) { $0.timeZone = TimeZone(identifier: "Asia/Tokyo")! }
        XCTAssertEqual(value("2024-01-25T18:00:00Z", tokyo), "2024-01-26", "03:00 in Tokyo")
        XCTAssertEqual(value("2024-01-25T18:00:00", tokyo), "2024-01-25", "a wall time is already Tokyo's")
        XCTAssertEqual(value("2024-01-25", tokyo), "2024-01-25")
        // `formats:` add forms on top of ISO 8601.
        let dayFirst = rule(.date) { $0.formats = [try! DatePattern("%d/%m/%Y")] }
        XCTAssertEqual(value("06/05/2024", dayFirst), "2024-05-06")
        XCTAssertEqual(value("2024-05-06", dayFirst), "2024-05-06")
        XCTAssertEqual(value("2024-05-06T10:00:00+02:00", dayFirst), "2024-05-06")
    }

    func testUUID() {
        let id = rule(.uuid)
        XCTAssertEqual(value("0b9e4a52-3c1f-4d7e-9a2b-6f1c8d3e5a70", id), "0b9e4a52-3c1f-4d7e-9a2b-6f1c8d3e5a70")
        XCTAssertEqual(value("0B9E4A52-3C1F-4D7E-9A2B-6F1C8D3E5A70", id), "0b9e4a52-3c1f-4d7e-9a2b-6f1c8d3e5a70", "stored lowercased")
        XCTAssertEqual(value("{0B9E4A52-3C1F-4D7E-9A2B-6F1C8D3E5A70}", id), "0b9e4a52-3c1f-4d7e-9a2b-6f1c8d3e5a70")
        XCTAssertEqual(value("urn:uuid:0b9e4a52-3c1f-4d7e-9a2b-6f1c8d3e5a70", id), "0b9e4a52-3c1f-4d7e-9a2b-6f1c8d3e5a70")
        XCTAssertEqual(value("URN:UUID:0b9e4a52-3c1f-4d7e-9a2b-6f1c8d3e5a70", id), "0b9e4a52-3c1f-4d7e-9a2b-6f1c8d3e5a70")
        XCTAssertEqual(value(" 00000000-0000-0000-0000-000000000000 ", id), "00000000-0000-0000-0000-000000000000", "the nil UUID, trimmed")
        XCTAssertEqual(value("", id), "", "optional")
        for bad in ["0b9e4a523c1f4d7e9a2b6f1c8d3e5a70", "0b9e4a52-3c1f-4d7e-9a2b-6f1c8d3e5a7", "0b9e4a52-3c1f-4d7e-9a2b-6f1c8d3e5a700",
                    "0b9e4a52-3c1f-4d7e-9a2b-6f1c8d3e5a7g", "0b9e4a52_3c1f-4d7e-9a2b-6f1c8d3e5a70", "{0b9e4a52-3c1f-4d7e-9a2b-6f1c8d3e5a70",
                    "0b9e4a5-23c1f-4d7e-9a2b-6f1c8d3e5a70", "urn:0b9e4a52-3c1f-4d7e-9a2b-6f1c8d3e5a70", "C0021", "42"] {
            XCTAssertEqual(rejection(bad, id), "type", bad)
        }
        XCTAssertEqual(reason("C0021", id), "col 'C0021' is not a UUID")
        // References compare the stored (lowercase) form.
        let userId = rule(.uuid) { $0.references = ("users", "id") }
        XCTAssertEqual(value("0B9E4A52-3C1F-4D7E-9A2B-6F1C8D3E5A70", userId, references: ["0b9e4a52-3c1f-4d7e-9a2b-6f1c8d3e5a70"]),
                       "0b9e4a52-3c1f-4d7e-9a2b-6f1c8d3e5a70")
        XCTAssertEqual(rejection("1b9e4a52-3c1f-4d7e-9a2b-6f1c8d3e5a70", userId, references: ["0b9e4a52-3c1f-4d7e-9a2b-6f1c8d3e5a70"]), "foreign_key")
    }

    func testRange() {
        let price = rule(.decimal) { $0.minimum = 0; $0.maximum = 1000 }
        XCTAssertEqual(value("0", price), "0")
        XCTAssertEqual(value("1000", price), "1000")
        XCTAssertEqual(rejection("-0.01", price), "range")
        XCTAssertEqual(rejection("1000.5", price), "range")
        XCTAssertEqual(reason("-0.01", price), "col -0.01 is below 0")
        XCTAssertEqual(reason("1000.5", price), "col 1000.5 is above 1000")

        let age = rule(.int) { $0.minimum = 18; $0.maximum = 120.5 }
        XCTAssertEqual(value("18", age), "18")
        XCTAssertEqual(rejection("17", age), "range")
        XCTAssertEqual(rejection("121", age), "range")
        XCTAssertEqual(reason("121", age), "col 121 is above 120.5")
        // Range applies to numbers only.
        XCTAssertEqual(value("zzz", rule(.string) { $0.minimum = 5 }), "zzz")
    }

    func testAcceptedValuesAfterNormalisation() {
        let country = rule(.string) { $0.uppercase = true; $0.acceptedValues = ["FR", "DE", "ES"] }
        XCTAssertEqual(value(" fr ", country), "FR")
        XCTAssertEqual(rejection("it", country), "accepted_values")
        XCTAssertEqual(reason("it", country), "col 'IT' is not one of the accepted values")
        let level = rule(.int) { $0.acceptedValues = ["1", "2", "3"] }
        XCTAssertEqual(value("+2", level), "2")
        XCTAssertEqual(rejection("4", level), "accepted_values")
    }

    func testPattern() {
        let email = rule(.string) { $0.lowercase = true; $0.pattern = "^[^@ ]+@[^@ ]+$" }
        XCTAssertEqual(value("Ada@Example.com", email), "ada@example.com")
        XCTAssertEqual(rejection("not an email", email), "pattern")
        XCTAssertEqual(rejection("a@b@c", email), "pattern")
        XCTAssertEqual(reason("nope", email), "col 'nope' does not match ^[^@ ]+@[^@ ]+$")
        // Unanchored patterns match anywhere.
        XCTAssertEqual(value("abc123", rule(.string) { $0.pattern = "[0-9]" }), "abc123")
        XCTAssertEqual(value("日本🎉x", rule(.string) { $0.pattern = "x$" }), "日本🎉x")
    }

    func testForeignKey() {
        let client = rule(.int) { $0.references = (table: "clients", column: "client_id") }
        XCTAssertEqual(value("7", client, references: ["7", "8"]), "7")
        XCTAssertEqual(value("+07", client, references: ["7"]), "7", "checked on the cleaned value")
        XCTAssertEqual(rejection("9", client, references: ["7", "8"]), "foreign_key")
        XCTAssertEqual(reason("9", client, references: ["7", "8"]), "col 9 is not a client_id of clients")
        // Without known keys, or without references, nothing is checked.
        XCTAssertEqual(value("9", client), "9")
        XCTAssertEqual(value("9", rule(.int), references: ["7"]), "9")
        // An empty optional value is not a dangling reference.
        XCTAssertEqual(value("", client, references: ["7"]), "")
    }

    func testInvalidUTF8IsRejectedFirst() {
        let anything = rule(.string) { $0.required = true }
        XCTAssertEqual(rejection("caf\u{FFFD}", anything), "utf8")
        XCTAssertEqual(rejection("\u{FFFD}", rule(.int)), "utf8")
        XCTAssertEqual(reason("caf\u{FFFD}", anything), "col is not valid UTF-8")
        XCTAssertEqual(value("café", anything), "café")
    }

    func testChecksRunInOrder() {
        // type before range before accepted_values before pattern before foreign_key
        let strict = rule(.int) {
            $0.minimum = 0
            $0.acceptedValues = ["1", "2", "-1", "30"]
            $0.pattern = "^[0-2]$"
            $0.references = (table: "t", column: "c")
        }
        XCTAssertEqual(rejection("x", strict, references: ["1"]), "type")
        XCTAssertEqual(rejection("-1", strict, references: ["1"]), "range")
        XCTAssertEqual(rejection("5", strict, references: ["1"]), "accepted_values")
        XCTAssertEqual(rejection("30", strict, references: ["1"]), "pattern")
        XCTAssertEqual(rejection("2", strict, references: ["1"]), "foreign_key")
        XCTAssertEqual(value("1", strict, references: ["1"]), "1")
    }

    func testRuleNames() {
        var names = Set<String>()
        let cases: [(String, CleaningRules.ColumnRule, Set<String>?)] = [
            ("", rule(.string) { $0.required = true }, nil),
            ("x", rule(.int), nil),
            ("-1", rule(.int) { $0.minimum = 0 }, nil),
            ("b", rule(.string) { $0.acceptedValues = ["a"] }, nil),
            ("b", rule(.string) { $0.pattern = "^a$" }, nil),
            ("2", rule(.int) { $0.references = ("t", "c") }, ["1"]),
            ("\u{FFFD}", rule(.string), nil),
        ]
        for (raw, rule, references) in cases {
            if let name = rejection(raw, rule, references: references) { names.insert(name) }
        }
        XCTAssertEqual(names, ["required", "type", "range", "accepted_values", "pattern", "foreign_key", "utf8"])
    }

    func testLargeIntegerForeignKeysAreComparedExactly() {
        var cleaner = ColumnCleaner(rule: CleaningRules.ColumnRule(name: "client_id", source: "client_id", type: .int,
                                                                  references: ("clients", "client_id")))
        cleaner.knownReferences = KnownKeys(["1234567890123456789", String(Int.max)], integer: true)
        if case .rejected(let rule, _) = cleaner.clean("1234567890123456789") { XCTFail("a valid 64-bit id was rejected by \(rule)") }
        if case .rejected(let rule, _) = cleaner.clean(String(Int.max)) { XCTFail("Int.max was rejected by \(rule)") }
        if case .value = cleaner.clean("1234567890123456788") { XCTFail("an unknown id was accepted") }
    }
}
