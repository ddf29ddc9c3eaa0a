import Foundation
import XCTest
@testable import Workflow

/// Dates are proleptic Gregorian everywhere and limited to years 1–9999.
final class CivilDateTests: XCTestCase {
    private let utc = TimeZone(secondsFromGMT: 0) ?? .current

    func testKnownDayNumbers() {
        // From Python: date(y, m, d).toordinal() - date(1970, 1, 1).toordinal().
        XCTAssertEqual(CivilDate(year: 1970, month: 1, day: 1).daysSince1970, 0)
        XCTAssertEqual(CivilDate(year: 1500, month: 3, day: 1).daysSince1970, -171_605)
        XCTAssertEqual(CivilDate(year: 1, month: 1, day: 1).daysSince1970, -719_162)
        XCTAssertEqual(CivilDate(year: 9999, month: 12, day: 31).daysSince1970, 2_932_896)
        XCTAssertEqual(CivilDate(daysSince1970: -171_605), CivilDate(year: 1500, month: 3, day: 1))
        // 1500 is a leap year in the Julian calendar, not in the Gregorian one.
        XCTAssertFalse(CivilDate(year: 1500, month: 2, day: 29).isValid)
        XCTAssertTrue(CivilDate(year: 1600, month: 2, day: 29).isValid)
    }

    func testDaysRoundTripOverTheWholeRange() {
        var previous = CivilDate(year: 1, month: 1, day: 1).daysSince1970 - 1
        for days in stride(from: -719_162, through: 2_932_896, by: 997) {
            let date = CivilDate(daysSince1970: days)
            XCTAssertTrue(date.isValid)
            XCTAssertEqual(date.daysSince1970, days)
            XCTAssertGreaterThan(days, previous)
            previous = days
        }
    }

    func testStartDate1500HasNoJulianShift() throws {
        let dag = try DagParser.parse(text: """
            dag_id: old
            schedule: "@daily"
            start_date: 1500-03-01
            end_date: 1500-03-03
            tasks: [{ id: a, command: ls }]
            """, file: "dags/old.yaml")
        XCTAssertEqual(dag.startDate.timeIntervalSince1970, -171_605 * 86_400)
        let first = try XCTUnwrap(dag.nextScheduledRun(latestExisting: nil))
        XCTAssertEqual(DateParsing.isoUTC(first.logicalDate), "1500-03-01T00:00:00Z")
        XCTAssertEqual(DateParsing.isoUTC(first.due), "1500-03-02T00:00:00Z")
        XCTAssertEqual(dag.timetable.logicalDates(from: dag.startDate, through: dag.endDate ?? dag.startDate).map(DateParsing.isoUTC),
                       ["1500-03-01T00:00:00Z", "1500-03-02T00:00:00Z", "1500-03-03T00:00:00Z"])
    }

    func testYearsOutsideOneToNineThousandNineHundredNinetyNineAreRefused() {
        func errorText(_ start: String, end: String? = nil) -> String {
            let text = "dag_id: range\nschedule: \"@daily\"\nstart_date: \(start)\n" + (end.map { "end_date: \($0)\n" } ?? "")
                + "tasks: [{ id: a, command: ls }]\n"
            do { _ = try DagParser.parse(text: text, file: "dags/range.yaml"); return "parsed" } catch { return error.description }
        }
        XCTAssertEqual(errorText("0000-12-31"), "dags/range.yaml:3: start_date: '0000-12-31' is outside years 1–9999")
        XCTAssertEqual(errorText("10000-01-01"), "dags/range.yaml:3: start_date: '10000-01-01' is outside years 1–9999")
        XCTAssertEqual(errorText("2024-01-01", end: "10000-01-01"), "dags/range.yaml:4: end_date: '10000-01-01' is outside years 1–9999")
        // In UTC too: midnight of year 1 east of Greenwich is still year 0.
        XCTAssertEqual(errorText("0001-01-01T00:00+01:00"), "dags/range.yaml:3: start_date: '0001-01-01T00:00+01:00' is outside years 1–9999")
        XCTAssertEqual(errorText("0001-01-01"), "parsed")
        XCTAssertEqual(errorText("9999-12-31T23:59:59"), "parsed")
        XCTAssertEqual(errorText("20240-01-01"), "dags/range.yaml:3: start_date: '20240-01-01' is outside years 1–9999")
        XCTAssertEqual(errorText("2024-1-01"), "dags/range.yaml:3: start_date: '2024-1-01' is not a date (try 2024-01-31 or 2024-01-31T06:00)")
    }

    func testNoScheduledRunIsDatedAfterYear9999() throws {
        let dag = try DagParser.parse(text: """
            dag_id: last
            schedule: "@daily"
            start_date: 9999-12-30
            tasks: [{ id: a, command: ls }]
            """, file: "dags/last.yaml")
        let first = try XCTUnwrap(dag.nextScheduledRun(latestExisting: nil))
        XCTAssertEqual(DateParsing.isoUTC(first.logicalDate), "9999-12-30T00:00:00Z")
        let second = try XCTUnwrap(dag.nextScheduledRun(latestExisting: first.logicalDate))
        XCTAssertEqual(DateParsing.isoUTC(second.logicalDate), "9999-12-31T00:00:00Z")
        XCTAssertNil(dag.nextScheduledRun(latestExisting: second.logicalDate))
        // (Foundation's distantFuture is in year 4001: go further, to year 11,000 or so.)
        XCTAssertEqual(dag.timetable.logicalDates(from: dag.startDate, through: Date(timeIntervalSince1970: 2.9e11)).count, 2)
    }

    func testWallTimesInZonesMatchFoundationAfter1582() throws {
        // Foundation's Calendar is Gregorian after 1582, an independent reference for zone offsets, including the
        // spring-forward gap (read with the offset before it) and the repeated hour (second occurrence, as Airflow's
        // make_aware with fold=1 reads it).
        let zones = ["UTC", "Europe/Paris", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata", "America/St_Johns"]
        for name in zones {
            let zone = try XCTUnwrap(TimeZone(identifier: name))
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = zone
            for (year, month, day, hour, minute) in [(2024, 3, 10, 2, 30), (2024, 3, 31, 2, 30), (2024, 11, 3, 1, 30),
                                                     (2024, 10, 27, 2, 30), (2024, 4, 7, 1, 45), (2024, 10, 6, 2, 15),
                                                     (1900, 1, 1, 0, 0), (1700, 6, 15, 12, 0), (2038, 1, 19, 3, 14),
                                                     (9999, 12, 31, 0, 0), (2000, 2, 29, 23, 59)] {
                let text = String(format: "%04d-%02d-%02dT%02d:%02d", year, month, day, hour, minute)
                var expected = calendar.date(from: DateComponents(year: year, month: month, day: day, hour: hour, minute: minute))
                // Calendar gives the first occurrence of a repeated time; the same wall time one shift later is the second.
                if let first = expected {
                    let shift = TimeInterval(zone.secondsFromGMT(for: first) - zone.secondsFromGMT(for: first + 86_400))
                    let wall: Set<Calendar.Component> = [.day, .hour, .minute]
                    if shift > 0, calendar.dateComponents(wall, from: first + shift) == calendar.dateComponents(wall, from: first) {
                        expected = first + shift
                    }
                }
                XCTAssertEqual(DateParsing.parse(text, in: zone), expected, "\(text) in \(name)")
            }
        }
    }

    func testFormattingMatchesPythonDatetime() throws {
        // A spread of instants over years 1–9999, formatted here and by Python's datetime (proleptic Gregorian).
        guard let python = Self.python3() else {
            if ProcessInfo.processInfo.environment["ORCHESTRATOR_TEST_STRICT"] == "1" { XCTFail("python3 is missing") }
            throw XCTSkip("python3 is missing")
        }
        var generator = SplitMix(seed: 11)
        let low = CivilDate.earliestSecond, high = CivilDate.latestSecond
        var seconds = [low, high, 0, -1, 951_782_400, -12_219_292_800, -12_220_000_000]  // 2000-03-01, 1582-10-15, before it
        for _ in 0..<2000 { seconds.append(low + Int64(generator.next() % UInt64(high - low + 1))) }
        let script = """
            import sys, datetime
            epoch = datetime.datetime(1970, 1, 1)
            for line in sys.stdin:
                print((epoch + datetime.timedelta(seconds=int(line))).isoformat() + "Z")
            """
        let output = try Self.run(python, ["-c", script], input: seconds.map(String.init).joined(separator: "\n") + "\n")
        let expected = output.split(separator: "\n").map(String.init)
        XCTAssertEqual(expected.count, seconds.count)
        for (second, pythonText) in zip(seconds, expected) {
            let date = Date(timeIntervalSince1970: Double(second))
            XCTAssertEqual(DateParsing.isoUTC(date), pythonText, "\(second)")
            // And back: the formatted text parses to the same instant.
            XCTAssertEqual(DateParsing.parse(pythonText, in: utc)?.timeIntervalSince1970, Double(second), pythonText)
        }
    }

    // MARK: - Helpers

    static func python3() -> String? {
        ["/usr/bin/python3", "/usr/local/bin/python3"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    static func run(_ executable: String, _ arguments: [String], input: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let stdin = Pipe(), stdout = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        try process.run()
        stdin.fileHandleForWriting.write(Data(input.utf8))
        try stdin.fileHandleForWriting.close()
        let data = stdout.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }

    /// A small deterministic generator, so a failure reproduces.
    struct SplitMix {
        var state: UInt64
        init(seed: UInt64) { state = seed }
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }
}
