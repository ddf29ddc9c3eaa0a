import Foundation
@testable import Transforms
import XCTest

final class ISODateParserTests: XCTestCase {
    private func fields(_ text: String) -> DateFields? { ISODateParser.parse(text) }

    func testTheFormsRead() throws {
        let date = try XCTUnwrap(fields("2024-01-25"))
        XCTAssertEqual([date.year, date.month, date.day, date.hour, date.minute, date.second], [2024, 1, 25, 0, 0, 0])
        XCTAssertNil(date.offset)
        for text in ["2024-01-25T09:55:57", "2024-01-25 09:55:57", "2024-01-25T09:55:57.5", "2024-01-25T09:55:57,123456789012"] {
            let value = try XCTUnwrap(fields(text), text)
            XCTAssertEqual([value.hour, value.minute, value.second], [9, 55, 57], text)
            XCTAssertNil(value.offset, text)
        }
        XCTAssertEqual(fields("2024-01-25T09:55")?.minute, 55)
        XCTAssertEqual(fields("2024-01-25T09:55")?.second, 0)
        XCTAssertEqual(fields("2024-01-25T09:55:57Z")?.offset, 0)
        XCTAssertEqual(fields("2024-01-25T09:55Z")?.offset, 0)
        XCTAssertEqual(fields("2024-01-25T09:55:57+05:30")?.offset, 19_800)
        XCTAssertEqual(fields("2024-01-25T09:55:57-0530")?.offset, -19_800)
        XCTAssertEqual(fields("2024-01-25 09:55:57.250-03")?.offset, -10_800)
        XCTAssertEqual(fields("2024-01-25T09:55:57+23:59")?.offset, 86_340)
    }

    func testWhatIsNotRead() {
        for text in ["", "2024-01", "20240125", "2024-01-25T", "2024-01-25T09", "2024-01-25T0955", "2024-01-25T9:55", "2024-01-25t09:55",
                     "2024-01-25  09:55", "2024-01-25T09:55:5", "2024-01-25T09:55:57.", "2024-01-25T09:55:57+", "2024-01-25T09:55:57+5",
                     "2024-01-25T09:55:57+05:", "2024-01-25T09:55:57+05:3", "2024-01-25T09:55:57+24:00", "2024-01-25T09:55:57+05:60",
                     "2024-01-25T09:55:57+05:30:00", "2024-01-25T09:55:57 Z", "2024-01-25T09:55:57UTC", "2024-01-25Z", "2024-01-25 ",
                     " 2024-01-25", "2024-02-30", "2023-02-29", "1900-02-29", "2024-13-01", "2024-00-01", "2024-01-00", "0999-12-31",
                     "2024-01-25T24:00", "2024-01-25T23:60", "2024-01-25T23:59:61", "2024/01/25", "+2024-01-25", "2024-01-25T09:55:57Zx"] {
            XCTAssertNil(fields(text), text)
        }
        XCTAssertNotNil(fields("2024-02-29"), "a leap day")
        XCTAssertNotNil(fields("2000-02-29"), "divisible by 400")
    }

    /// Expected values from Python's `datetime.fromisoformat` (3.11) and `zoneinfo`, not from this code: a spread of
    /// forms, leap days, offsets and wall times around daylight-saving changes (including ambiguous and skipped ones).
    func testAgreesWithPython() throws {
        var random = SeededGenerator(seed: 11)
        func pick<T>(_ options: [T]) -> T { options[Int.random(in: 0..<options.count, using: &random)] }
        func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
        let zones = ["UTC", "Europe/Paris", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata", "America/Sao_Paulo", "Pacific/Apia"]
        // Days around leap days and the 2024 changes of those zones, and random days from 1900 to 2100.
        var days = ["2024-02-28", "2024-02-29", "2024-03-01", "2023-02-28", "2023-03-01", "2000-02-29", "1900-02-28", "2100-02-28",
                    "2024-03-10", "2024-11-03", "2024-03-31", "2024-10-27", "2024-04-07", "2024-10-06", "2011-12-29", "2011-12-30", "2011-12-31",
                    "1999-12-31", "2000-01-01", "2024-12-31", "2025-01-01"]
        for _ in 0..<40 {
            let epochDay = Int.random(in: DateFields.daysFromCivil(1900, 1, 1)...DateFields.daysFromCivil(2100, 12, 31), using: &random)
            let (year, month, day) = DateFields.civilFromDays(epochDay)
            days.append("\(year)-\(two(month))-\(two(day))")
        }
        var cases: [(zone: String, text: String)] = []
        for _ in 0..<4000 {
            let hour = pick([0, 1, 2, 3, 4, 5, 12, 23] + Array(0..<24))
            let minute = pick([0, 30, 59, 15, 1])
            let second = pick(["", ":00", ":59", ":07"])
            let fraction = second.isEmpty ? "" : pick(["", "", ".5", ".999999", ".123456789", ",25", ".000001"])
            let offset = pick(["", "", "", "Z", "+00:00", "+02:00", "-05:00", "+0530", "-0930", "+14", "-12", "+13:45", "-00:30"])
            let separator = pick(["T", " "])
            let text = pick([0, 1, 1, 1, 1]) == 0 ? pick(days) : "\(pick(days))\(separator)\(two(hour)):\(two(minute))\(second)\(fraction)\(offset)"
            cases.append((pick(zones), text))
        }
        let script = """
        import sys
        from datetime import datetime, timezone
        from zoneinfo import ZoneInfo
        for line in sys.stdin:
            zone, text = line.rstrip("\\n").split("\\t")
            value = datetime.fromisoformat(text)
            wall = value.tzinfo is None
            if wall:
                value = value.replace(tzinfo=ZoneInfo(zone))  # fold=0
            utc = value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
            date = value.date() if wall else value.astimezone(ZoneInfo(zone)).date()
            print(utc, date.isoformat(), sep="\\t")
        """
        let input = cases.map { "\($0.zone)\t\($0.text)\n" }.joined()
        let output = try runPython(script, input: input).split(separator: "\n")
        XCTAssertEqual(output.count, cases.count)
        for (index, (zone, text)) in cases.enumerated() where index < output.count {
            let expected = output[index].split(separator: "\t").map(String.init)
            let timeZone = try XCTUnwrap(TimeZone(identifier: zone))
            for (type, want) in [(CleaningRules.ColumnType.timestamp, expected[0]), (.date, expected[1])] {
                var rule = CleaningRules.ColumnRule(name: "at", source: "at", type: type)
                rule.timeZone = timeZone
                let general = ColumnCleaner(rule: rule)
                guard case .value(let value) = general.clean(text) else {
                    XCTFail("\(text) in \(zone) as \(type): rejected, Python reads \(want)")
                    continue
                }
                XCTAssertEqual(value, want, "\(text) in \(zone) as \(type)")
                let output = ByteBuffer(capacity: 32)
                if Array(text.utf8).withUnsafeBufferPointer({ ByteColumnCleaner(general).clean($0, into: output) }) {
                    XCTAssertEqual(String(decoding: output.bytes(0..<output.count), as: UTF8.self), want, "byte path: \(text) in \(zone) as \(type)")
                }
            }
        }
    }

    /// Values this parser refuses that Python refuses too: impossible dates and times, not merely other spellings.
    func testImpossibleValuesAreRefusedByPythonToo() throws {
        let impossible = ["2023-02-29", "1900-02-29", "2024-04-31", "2024-13-01", "2024-01-25T24:00", "2024-01-25T23:60",
                          "2024-01-25T12:00:00+24:00"]
        for text in impossible { XCTAssertNil(fields(text), text) }
        let script = """
        import sys
        from datetime import datetime
        for line in sys.stdin:
            try:
                datetime.fromisoformat(line.rstrip("\\n")); print("accepted")
            except ValueError:
                print("refused")
        """
        let verdicts = try runPython(script, input: impossible.map { $0 + "\n" }.joined()).split(separator: "\n")
        XCTAssertEqual(verdicts, Array(repeating: "refused", count: impossible.count))
    }

    private func runPython(_ script: String, input: String) throws -> String {
        let directory = try TemporaryDirectory()
        let scriptPath = try directory.write("check.py", script)
        let inputPath = try directory.write("input.txt", input)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", scriptPath]
        process.standardInput = try FileHandle(forReadingFrom: URL(fileURLWithPath: inputPath))
        let outputPath = directory.file("output.txt")
        FileManager.default.createFile(atPath: outputPath, contents: nil)
        let outputHandle = try FileHandle(forWritingTo: URL(fileURLWithPath: outputPath))
        process.standardOutput = outputHandle
        try process.run()
        process.waitUntilExit()
        try outputHandle.close()
        XCTAssertEqual(process.terminationStatus, 0, "python3 failed")
        return try String(contentsOfFile: outputPath, encoding: .utf8)
    }
}
