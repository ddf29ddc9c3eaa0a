import Foundation
import XCTest
@testable import Workflow

final class CronExpressionTests: XCTestCase {

    // MARK: - Helpers

    private func zone(_ id: String) throws -> TimeZone {
        try XCTUnwrap(TimeZone(identifier: id), "time zone \(id) unavailable")
    }

    private var utc: TimeZone { TimeZone(secondsFromGMT: 0) ?? .current }

    /// An instant given in UTC.
    private func utcDate(_ y: Int, _ mo: Int, _ d: Int, _ h: Int = 0, _ mi: Int = 0, _ s: Int = 0) -> Date {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = utc
        let components = DateComponents(year: y, month: mo, day: d, hour: h, minute: mi, second: s)
        guard let date = calendar.date(from: components) else {
            XCTFail("bad date \(components)")
            return Date(timeIntervalSince1970: 0)
        }
        return date
    }

    /// "yyyy-MM-dd HH:mm ±hh:mm" in `tz`, so assertions show local wall time and offset.
    private func local(_ date: Date?, _ tz: TimeZone) -> String {
        guard let date else { return "nil" }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.calendar = Calendar(identifier: .gregorian)
        formatter.timeZone = tz
        formatter.dateFormat = "yyyy-MM-dd HH:mm xxx"
        return formatter.string(from: date)
    }

    private func fires(_ text: String, after start: Date, count: Int, in tz: TimeZone) throws -> [Date] {
        let cron = try CronExpression(parsing: text)
        var result: [Date] = []
        var cursor = start
        for _ in 0..<count {
            guard let next = cron.next(after: cursor, in: tz) else { break }
            result.append(next)
            cursor = next
        }
        return result
    }

    private func localFires(_ text: String, after start: Date, count: Int, in tz: TimeZone) throws -> [String] {
        try fires(text, after: start, count: count, in: tz).map { local($0, tz) }
    }

    private func assertError(_ text: String, _ expected: String, file: StaticString = #filePath, line: UInt = #line) {
        do {
            let cron = try CronExpression(parsing: text)
            XCTFail("'\(text)' parsed as \(cron), expected error: \(expected)", file: file, line: line)
        } catch {
            XCTAssertEqual(error.message, expected, "input '\(text)'", file: file, line: line)
            XCTAssertEqual(error.description, error.message, file: file, line: line)
        }
    }

    // MARK: - Presets and description

    func testPresetsMatchTheirExpansions() throws {
        let pairs = [
            ("@hourly", "0 * * * *"), ("@daily", "0 0 * * *"), ("@midnight", "0 0 * * *"),
            ("@weekly", "0 0 * * 0"), ("@monthly", "0 0 1 * *"), ("@yearly", "0 0 1 1 *"),
            ("@annually", "0 0 1 1 *"), ("@DAILY", "0 0 * * *"),
        ]
        let newYork = try zone("America/New_York")
        for (preset, expansion) in pairs {
            for tz in [utc, newYork] {
                let start = utcDate(2024, 2, 27, 13, 17)
                XCTAssertEqual(try fires(preset, after: start, count: 15, in: tz),
                               try fires(expansion, after: start, count: 15, in: tz), preset)
            }
        }
    }

    func testPresetFireTimes() throws {
        let start = utcDate(2024, 5, 5, 10, 17)  // a Sunday
        func first(_ text: String) throws -> String {
            local(try CronExpression(parsing: text).next(after: start, in: utc), utc)
        }
        XCTAssertEqual(try first("@hourly"), "2024-05-05 11:00 +00:00")
        XCTAssertEqual(try first("@daily"), "2024-05-06 00:00 +00:00")
        XCTAssertEqual(try first("@midnight"), "2024-05-06 00:00 +00:00")
        XCTAssertEqual(try first("@weekly"), "2024-05-12 00:00 +00:00")
        XCTAssertEqual(try first("@monthly"), "2024-06-01 00:00 +00:00")
        XCTAssertEqual(try first("@yearly"), "2025-01-01 00:00 +00:00")
        XCTAssertEqual(try first("@annually"), "2025-01-01 00:00 +00:00")
    }

    func testDescriptionIsTrimmedOriginalText() throws {
        XCTAssertEqual(try CronExpression(parsing: "  */5 * * * *\n").description, "*/5 * * * *")
        XCTAssertEqual(try CronExpression(parsing: "@daily ").description, "@daily")
        XCTAssertEqual(try CronExpression(parsing: "0\t0  * * *").description, "0\t0  * * *")
    }

    func testEquality() throws {
        XCTAssertEqual(try CronExpression(parsing: "0 0 * * *"), try CronExpression(parsing: " 0 0 * * * "))
        XCTAssertNotEqual(try CronExpression(parsing: "0 0 * * *"), try CronExpression(parsing: "0 1 * * *"))
    }

    // MARK: - Field syntax

    func testLists() throws {
        XCTAssertEqual(try localFires("0,15,45 9 * * *", after: utcDate(2024, 1, 1), count: 4, in: utc), [
            "2024-01-01 09:00 +00:00", "2024-01-01 09:15 +00:00", "2024-01-01 09:45 +00:00",
            "2024-01-02 09:00 +00:00",
        ])
    }

    func testRanges() throws {
        XCTAssertEqual(try localFires("0 9-11 * * *", after: utcDate(2024, 1, 1), count: 4, in: utc), [
            "2024-01-01 09:00 +00:00", "2024-01-01 10:00 +00:00", "2024-01-01 11:00 +00:00",
            "2024-01-02 09:00 +00:00",
        ])
    }

    func testSteps() throws {
        let start = utcDate(2024, 1, 1)
        XCTAssertEqual(try localFires("*/20 * * * *", after: start, count: 4, in: utc), [
            "2024-01-01 00:20 +00:00", "2024-01-01 00:40 +00:00", "2024-01-01 01:00 +00:00",
            "2024-01-01 01:20 +00:00",
        ])
        XCTAssertEqual(try localFires("10-30/10 * * * *", after: start, count: 4, in: utc), [
            "2024-01-01 00:10 +00:00", "2024-01-01 00:20 +00:00", "2024-01-01 00:30 +00:00",
            "2024-01-01 01:10 +00:00",
        ])
        XCTAssertEqual(try localFires("5/20 * * * *", after: start, count: 4, in: utc), [
            "2024-01-01 00:05 +00:00", "2024-01-01 00:25 +00:00", "2024-01-01 00:45 +00:00",
            "2024-01-01 01:05 +00:00",
        ])
        XCTAssertEqual(try localFires("0 */6 * * *", after: start, count: 4, in: utc), [
            "2024-01-01 06:00 +00:00", "2024-01-01 12:00 +00:00", "2024-01-01 18:00 +00:00",
            "2024-01-02 00:00 +00:00",
        ])
    }

    func testMonthNames() throws {
        XCTAssertEqual(try localFires("0 0 1 jan,Jul *", after: utcDate(2024, 1, 1), count: 3, in: utc), [
            "2024-07-01 00:00 +00:00", "2025-01-01 00:00 +00:00", "2025-07-01 00:00 +00:00",
        ])
        XCTAssertEqual(try localFires("0 0 1 MAR-may *", after: utcDate(2024, 1, 1), count: 4, in: utc), [
            "2024-03-01 00:00 +00:00", "2024-04-01 00:00 +00:00", "2024-05-01 00:00 +00:00",
            "2025-03-01 00:00 +00:00",
        ])
    }

    func testWeekdayNames() throws {
        // 2024-09-06 is a Friday.
        XCTAssertEqual(try localFires("0 12 * * mon-FRI", after: utcDate(2024, 9, 6, 13), count: 2, in: utc), [
            "2024-09-09 12:00 +00:00", "2024-09-10 12:00 +00:00",
        ])
        XCTAssertEqual(try localFires("0 0 * * Sun,sat", after: utcDate(2024, 9, 6), count: 3, in: utc), [
            "2024-09-07 00:00 +00:00", "2024-09-08 00:00 +00:00", "2024-09-14 00:00 +00:00",
        ])
    }

    func testSevenIsSunday() throws {
        let start = utcDate(2024, 9, 1, 12)  // a Sunday
        XCTAssertEqual(try localFires("0 0 * * 7", after: start, count: 2, in: utc),
                       ["2024-09-08 00:00 +00:00", "2024-09-15 00:00 +00:00"])
        XCTAssertEqual(try fires("0 0 * * 7", after: start, count: 10, in: utc),
                       try fires("0 0 * * 0", after: start, count: 10, in: utc))
        XCTAssertEqual(try localFires("0 0 * * 5-7", after: start, count: 4, in: utc), [
            "2024-09-06 00:00 +00:00", "2024-09-07 00:00 +00:00", "2024-09-08 00:00 +00:00",
            "2024-09-13 00:00 +00:00",
        ])
    }

    // MARK: - Day-of-month / day-of-week rule

    func testDayOfMonthOrDayOfWeekWhenBothRestricted() throws {
        // Fridays in Sep/Oct 2024: 6, 13, 20, 27, 4, 11, 18, 25; plus the 13th of each month.
        XCTAssertEqual(try localFires("0 0 13 * 5", after: utcDate(2024, 9, 1), count: 9, in: utc), [
            "2024-09-06 00:00 +00:00", "2024-09-13 00:00 +00:00", "2024-09-20 00:00 +00:00",
            "2024-09-27 00:00 +00:00", "2024-10-04 00:00 +00:00", "2024-10-11 00:00 +00:00",
            "2024-10-13 00:00 +00:00", "2024-10-18 00:00 +00:00", "2024-10-25 00:00 +00:00",
        ])
    }

    func testOnlyOneDayFieldRestrictedRequiresBoth() throws {
        let start = utcDate(2024, 9, 1)
        XCTAssertEqual(try localFires("0 0 13 * *", after: start, count: 2, in: utc),
                       ["2024-09-13 00:00 +00:00", "2024-10-13 00:00 +00:00"])
        XCTAssertEqual(try localFires("0 0 * * 5", after: start, count: 2, in: utc),
                       ["2024-09-06 00:00 +00:00", "2024-09-13 00:00 +00:00"])
        // croniter (Airflow): "*/2" expands to odd days, which is restricted, so odd days OR Mondays
        // (croniter 7 gives 09-02, 09-03, 09-05, 09-07, 09-09, 09-11). Vixie cron would AND them.
        XCTAssertEqual(try localFires("0 0 */2 * 1", after: start, count: 6, in: utc), [
            "2024-09-02 00:00 +00:00", "2024-09-03 00:00 +00:00", "2024-09-05 00:00 +00:00",
            "2024-09-07 00:00 +00:00", "2024-09-09 00:00 +00:00", "2024-09-11 00:00 +00:00",
        ])
        // A field covering every value is unrestricted only when the other field contains '*'.
        XCTAssertEqual(try localFires("0 0 1-31 * */3", after: start, count: 3, in: utc),
                       ["2024-09-04 00:00 +00:00", "2024-09-07 00:00 +00:00", "2024-09-08 00:00 +00:00"])
        XCTAssertEqual(try localFires("0 0 */1 * 1", after: start, count: 2, in: utc),
                       ["2024-09-02 00:00 +00:00", "2024-09-03 00:00 +00:00"])
    }

    // MARK: - Invalid input

    func testInvalidInputsProduceHelpfulErrors() {
        assertError("* * * *", "expected 5 fields, got 4")
        assertError("* * * * * *", "expected 5 fields, got 6")
        assertError("   ", "expected 5 fields, got 0")
        assertError("61 * * * *", "minute field '61' is out of range 0-59")
        assertError("0 24 * * *", "hour field '24' is out of range 0-23")
        assertError("0 0 0 * *", "day-of-month field '0' is out of range 1-31")
        assertError("0 0 1-40 * *", "day-of-month field '40' is out of range 1-31")
        assertError("0 0 * 13 *", "month field '13' is out of range 1-12")
        assertError("0 0 * * 8", "day-of-week field '8' is out of range 0-7")
        assertError("*/0 * * * *", "minute field '*/0': step must be between 1 and 60")
        assertError("0 1-10/0 * * *", "hour field '1-10/0': step must be between 1 and 24")
        assertError("*/x * * * *", "minute field '*/x': step 'x' is not a number")
        assertError("0 5-2 * * *", "hour field '5-2': range start 5 is greater than end 2")
        assertError("0 0 * * FRI-MON", "day-of-week field 'FRI-MON': range start 5 is greater than end 1")
        assertError("abc * * * *", "minute field 'abc' is not a number")
        assertError("0 0 * FOO *", "month field 'FOO' is not a number or month name")
        assertError("0 0 * * funday", "day-of-week field 'funday' is not a number or day-of-week name")
        assertError("1,,2 * * * *", "minute field '1,,2' has an empty list element")
        assertError("-5 * * * *", "minute field '-5' is missing a value")
        assertError("1/2/3 * * * *", "minute field '1/2/3' has more than one '/'")
        assertError("99999999999999999999 * * * *", "minute field '99999999999999999999' is out of range 0-59")
        assertError("@fortnightly", "unknown preset '@fortnightly'; expected one of "
            + "@hourly, @daily, @midnight, @weekly, @monthly, @yearly, @annually")
    }

    // MARK: - Month ends and leap years

    func testDay31SkipsShortMonths() throws {
        XCTAssertEqual(try localFires("0 0 31 * *", after: utcDate(2024, 1, 1), count: 8, in: utc), [
            "2024-01-31 00:00 +00:00", "2024-03-31 00:00 +00:00", "2024-05-31 00:00 +00:00",
            "2024-07-31 00:00 +00:00", "2024-08-31 00:00 +00:00", "2024-10-31 00:00 +00:00",
            "2024-12-31 00:00 +00:00", "2025-01-31 00:00 +00:00",
        ])
    }

    func testLeapDay() throws {
        let cron = try CronExpression(parsing: "0 0 29 2 *")
        XCTAssertEqual(try localFires("0 0 29 2 *", after: utcDate(2023, 1, 1), count: 2, in: utc),
                       ["2024-02-29 00:00 +00:00", "2028-02-29 00:00 +00:00"])
        XCTAssertEqual(local(cron.previous(before: utcDate(2027, 6, 1), in: utc), utc), "2024-02-29 00:00 +00:00")
        // 2100 is not a leap year: the 8-year gap is still found.
        XCTAssertEqual(local(cron.next(after: utcDate(2096, 3, 1), in: utc), utc), "2104-02-29 00:00 +00:00")
        XCTAssertEqual(local(cron.previous(before: utcDate(2104, 1, 1), in: utc), utc), "2096-02-29 00:00 +00:00")
    }

    func testImpossibleScheduleReturnsNilQuickly() throws {
        let started = Date()
        for text in ["0 0 30 2 *", "* * 31 4,6,9,11 *", "*/5 * 31 2 *"] {
            let cron = try CronExpression(parsing: text)
            XCTAssertNil(cron.next(after: utcDate(2024, 1, 1), in: utc), text)
            XCTAssertNil(cron.previous(before: utcDate(2024, 1, 1), in: try zone("Europe/Berlin")), text)
        }
        XCTAssertLessThan(Date().timeIntervalSince(started), 0.5)
    }

    func testMonthlyAcrossYearEnd() throws {
        XCTAssertEqual(try localFires("@monthly", after: utcDate(2024, 11, 15), count: 3, in: utc), [
            "2024-12-01 00:00 +00:00", "2025-01-01 00:00 +00:00", "2025-02-01 00:00 +00:00",
        ])
        let cron = try CronExpression(parsing: "@monthly")
        XCTAssertEqual(local(cron.previous(before: utcDate(2025, 1, 15), in: utc), utc), "2025-01-01 00:00 +00:00")
        XCTAssertEqual(local(cron.previous(before: utcDate(2025, 1, 1), in: utc), utc), "2024-12-01 00:00 +00:00")
    }

    // MARK: - Performance

    func testDaily365ConsecutiveDaysInUTCIsFast() throws {
        let cron = try CronExpression(parsing: "@daily")
        let start = utcDate(2024, 1, 1)
        let began = Date()
        var cursor = start
        var results: [Date] = []
        for _ in 0..<365 {
            guard let next = cron.next(after: cursor, in: utc) else { return XCTFail("nil") }
            results.append(next)
            cursor = next
        }
        let elapsed = Date().timeIntervalSince(began)
        XCTAssertLessThan(elapsed, 0.05)
        for (index, date) in results.enumerated() {
            XCTAssertEqual(date.timeIntervalSince(start), Double(index + 1) * 86_400)
        }
        XCTAssertEqual(local(results.last, utc), "2024-12-31 00:00 +00:00")  // 2024 is a leap year
    }

    func testMinuteCronSkipsWholeMonthsAndDays() throws {
        let began = Date()
        let cron = try CronExpression(parsing: "*/5 * 29 2 *")
        XCTAssertEqual(local(cron.next(after: utcDate(2024, 3, 1), in: utc), utc), "2028-02-29 00:00 +00:00")
        XCTAssertEqual(local(cron.previous(before: utcDate(2028, 1, 1), in: utc), utc), "2024-02-29 23:55 +00:00")
        let everyMinute = try CronExpression(parsing: "* * * * *")
        var cursor = utcDate(2024, 1, 1)
        for _ in 0..<1000 {
            guard let next = everyMinute.next(after: cursor, in: try zone("America/New_York")) else {
                return XCTFail("nil")
            }
            XCTAssertEqual(next.timeIntervalSince(cursor), 60)
            cursor = next
        }
        XCTAssertLessThan(Date().timeIntervalSince(began), 0.1)
    }

    // MARK: - Strictness

    func testNextAndPreviousAreStrict() throws {
        let cron = try CronExpression(parsing: "0 12 * * *")
        let noon = utcDate(2024, 6, 1, 12)
        XCTAssertEqual(cron.next(after: noon, in: utc), utcDate(2024, 6, 2, 12))
        XCTAssertEqual(cron.previous(before: noon, in: utc), utcDate(2024, 5, 31, 12))
        XCTAssertEqual(cron.next(after: noon - 0.5, in: utc), noon)
        XCTAssertEqual(cron.previous(before: noon + 0.5, in: utc), noon)
    }

    func testNonFiniteDateReturnsNil() throws {
        let cron = try CronExpression(parsing: "* * * * *")
        XCTAssertNil(cron.next(after: Date(timeIntervalSince1970: .infinity), in: utc))
        XCTAssertNil(cron.previous(before: Date(timeIntervalSince1970: .nan), in: utc))
        XCTAssertNotNil(cron.next(after: .distantFuture, in: try zone("America/New_York")))
    }

    // MARK: - DST: America/New_York

    func testNewYorkDailyAcrossDSTTransitions() throws {
        let ny = try zone("America/New_York")
        let spring = try fires("@daily", after: utcDate(2024, 3, 9, 12), count: 2, in: ny)
        XCTAssertEqual(spring.map { local($0, ny) }, ["2024-03-10 00:00 -05:00", "2024-03-11 00:00 -04:00"])
        XCTAssertEqual(spring[1].timeIntervalSince(spring[0]), 23 * 3600)
        let fall = try fires("@daily", after: utcDate(2024, 11, 2, 12), count: 2, in: ny)
        XCTAssertEqual(fall.map { local($0, ny) }, ["2024-11-03 00:00 -04:00", "2024-11-04 00:00 -05:00"])
        XCTAssertEqual(fall[1].timeIntervalSince(fall[0]), 25 * 3600)
    }

    func testNewYorkSpringForwardGapShiftsByTheGapLength() throws {
        let ny = try zone("America/New_York")
        // Airflow (make_aware, pendulum): 02:30 does not exist and is read as 03:30 EDT.
        XCTAssertEqual(try localFires("30 2 * * *", after: utcDate(2024, 3, 9, 12), count: 2, in: ny),
                       ["2024-03-10 03:30 -04:00", "2024-03-11 02:30 -04:00"])
        // Only the first match in the gap fires (02:00 shifted to 03:00); croniter resumes after 03:00.
        XCTAssertEqual(try localFires("*/15 2 * * *", after: utcDate(2024, 3, 10, 5), count: 2, in: ny),
                       ["2024-03-10 03:00 -04:00", "2024-03-11 02:00 -04:00"])
        let cron = try CronExpression(parsing: "30 2 * * *")
        XCTAssertEqual(local(cron.previous(before: utcDate(2024, 3, 11, 6, 30), in: ny), ny), "2024-03-10 03:30 -04:00")
    }

    func testNewYorkFallBackFiresOnceAtSecondOccurrence() throws {
        let ny = try zone("America/New_York")
        // Airflow: make_aware sets fold=1, so the repeated 01:30 fires at its second occurrence (EST).
        XCTAssertEqual(try localFires("30 1 * * *", after: utcDate(2024, 11, 2, 12), count: 2, in: ny),
                       ["2024-11-03 01:30 -05:00", "2024-11-04 01:30 -05:00"])
        XCTAssertEqual(try localFires("30 2 * * *", after: utcDate(2024, 11, 2, 12), count: 2, in: ny),
                       ["2024-11-03 02:30 -05:00", "2024-11-04 02:30 -05:00"])
        // From 01:15 EST the day's fire (01:30 EST) is still ahead; from 01:45 EST it is the previous one.
        let cron = try CronExpression(parsing: "30 1 * * *")
        XCTAssertEqual(local(cron.next(after: utcDate(2024, 11, 3, 6, 15), in: ny), ny), "2024-11-03 01:30 -05:00")
        XCTAssertEqual(local(cron.previous(before: utcDate(2024, 11, 3, 6, 45), in: ny), ny), "2024-11-03 01:30 -05:00")
        XCTAssertEqual(local(cron.previous(before: utcDate(2024, 11, 3, 6, 15), in: ny), ny), "2024-11-02 01:30 -04:00")
    }

    func testNewYorkHourlyAcrossFallBackRunsRepeatedHour() throws {
        let ny = try zone("America/New_York")
        // Airflow's _covers_every_hour rule: the repeated 01:00 runs twice.
        XCTAssertEqual(try localFires("0 * * * *", after: utcDate(2024, 11, 3, 3, 30), count: 4, in: ny), [
            "2024-11-03 00:00 -04:00", "2024-11-03 01:00 -04:00", "2024-11-03 01:00 -05:00",
            "2024-11-03 02:00 -05:00",
        ])
        let cron = try CronExpression(parsing: "0 * * * *")
        // 06:00Z is 01:00 EST, the second occurrence.
        XCTAssertEqual(cron.next(after: utcDate(2024, 11, 3, 5, 30), in: ny), utcDate(2024, 11, 3, 6))
        XCTAssertEqual(cron.previous(before: utcDate(2024, 11, 3, 7), in: ny), utcDate(2024, 11, 3, 6))
    }

    func testNewYorkHourlyAcrossSpringForwardFiresEveryRealHour() throws {
        let ny = try zone("America/New_York")
        XCTAssertEqual(try localFires("0 * * * *", after: utcDate(2024, 3, 10, 5, 30), count: 3, in: ny), [
            "2024-03-10 01:00 -05:00", "2024-03-10 03:00 -04:00", "2024-03-10 04:00 -04:00",
        ])
    }

    // MARK: - DST: Europe/Berlin

    func testBerlinDST() throws {
        let berlin = try zone("Europe/Berlin")
        let spring = try fires("@daily", after: utcDate(2024, 3, 30, 12), count: 2, in: berlin)
        XCTAssertEqual(spring.map { local($0, berlin) }, ["2024-03-31 00:00 +01:00", "2024-04-01 00:00 +02:00"])
        XCTAssertEqual(spring[1].timeIntervalSince(spring[0]), 23 * 3600)
        let fall = try fires("@daily", after: utcDate(2024, 10, 26, 12), count: 2, in: berlin)
        XCTAssertEqual(fall.map { local($0, berlin) }, ["2024-10-27 00:00 +02:00", "2024-10-28 00:00 +01:00"])
        XCTAssertEqual(fall[1].timeIntervalSince(fall[0]), 25 * 3600)

        XCTAssertEqual(try localFires("30 2 * * *", after: utcDate(2024, 3, 30, 12), count: 2, in: berlin),
                       ["2024-03-31 03:30 +02:00", "2024-04-01 02:30 +02:00"])
        XCTAssertEqual(try localFires("30 2 * * *", after: utcDate(2024, 10, 26, 12), count: 2, in: berlin),
                       ["2024-10-27 02:30 +01:00", "2024-10-28 02:30 +01:00"])
    }

    // MARK: - Other offsets

    func testKolkataHalfHourOffset() throws {
        let kolkata = try zone("Asia/Kolkata")
        let cron = try CronExpression(parsing: "30 9 * * *")
        XCTAssertEqual(cron.next(after: utcDate(2024, 6, 1), in: kolkata), utcDate(2024, 6, 1, 4))
        XCTAssertEqual(try CronExpression(parsing: "@daily").next(after: utcDate(2024, 6, 1), in: kolkata),
                       utcDate(2024, 6, 1, 18, 30))
        XCTAssertEqual(try localFires("0 * * * *", after: utcDate(2024, 6, 1), count: 2, in: kolkata),
                       ["2024-06-01 06:00 +05:30", "2024-06-01 07:00 +05:30"])
    }

    func testSantiagoMidnightGap() throws {
        // On 2024-09-08 clocks jump from 00:00 -04 to 01:00 -03: local midnight does not exist.
        let santiago = try zone("America/Santiago")
        let days = try fires("@daily", after: utcDate(2024, 9, 7, 12), count: 2, in: santiago)
        XCTAssertEqual(days.map { local($0, santiago) }, ["2024-09-08 01:00 -03:00", "2024-09-09 00:00 -03:00"])
        XCTAssertEqual(days.first, utcDate(2024, 9, 8, 4))
        let cron = try CronExpression(parsing: "@daily")
        XCTAssertEqual(local(cron.previous(before: utcDate(2024, 9, 9, 3), in: santiago), santiago),
                       "2024-09-08 01:00 -03:00")
        // 00:00 is shifted to 01:00, and croniter resumes after 01:00: one fire.
        XCTAssertEqual(try localFires("0 0,1 * * *", after: utcDate(2024, 9, 7, 12), count: 2, in: santiago),
                       ["2024-09-08 01:00 -03:00", "2024-09-09 00:00 -03:00"])
        // Fall back on 2024-04-07: 00:00 -03 becomes 23:00 -04 on the 6th; 23:30 happens twice, fires at the second.
        XCTAssertEqual(try localFires("30 23 * * *", after: utcDate(2024, 4, 6, 12), count: 2, in: santiago),
                       ["2024-04-06 23:30 -04:00", "2024-04-07 23:30 -04:00"])
    }

    // MARK: - Consistency

    func testPreviousAndNextRoundTrip() throws {
        let expressions = ["@daily", "@hourly", "30 2 * * *", "*/15 2 * * *", "*/7 1-3 * * *", "0 0 29 2 *",
                           "0 0 13 * 5", "30 1 * * *", "0 0,1 * * *", "30 23 * * *", "*/20 * * * *"]
        let zones = try ["UTC", "America/New_York", "Europe/Berlin", "America/Santiago", "Asia/Kolkata",
                         "Australia/Lord_Howe"].map(zone)
        let starts = [utcDate(2024, 3, 9), utcDate(2024, 11, 2), utcDate(2024, 3, 30), utcDate(2024, 10, 26),
                      utcDate(2024, 9, 6), utcDate(2024, 4, 5)]
        for text in expressions {
            let cron = try CronExpression(parsing: text)
            for tz in zones {
                for start in starts {
                    let sequence = try fires(text, after: start, count: 30, in: tz)
                    XCTAssertEqual(sequence.count, 30, "\(text) \(tz.identifier)")
                    for (earlier, later) in zip(sequence, sequence.dropFirst()) {
                        XCTAssertLessThan(earlier, later)
                        XCTAssertEqual(cron.previous(before: later, in: tz), earlier, "\(text) \(tz.identifier)")
                        XCTAssertEqual(cron.next(after: earlier, in: tz), later)
                        if let previous = cron.previous(before: earlier, in: tz) {
                            XCTAssertEqual(cron.next(after: previous, in: tz), earlier, "\(text) \(tz.identifier)")
                        } else {
                            XCTFail("no previous for \(text) in \(tz.identifier)")
                        }
                    }
                }
            }
        }
    }

    /// Independent oracle: walk every real minute, read its wall clock via Calendar, and apply Airflow's documented
    /// rules. Hour-`*` crons: every real minute whose wall time matches. Other crons: a repeated wall time at its
    /// last occurrence; the first matching minute of a gap shifted forward by the gap's length, and the real minutes
    /// up to that shifted wall time dropped. Compare with what `next` produces.
    func testMatchesMinuteByMinuteOracleAroundTransitions() throws {
        typealias Matcher = (_ minute: Int, _ hour: Int, _ day: Int, _ weekday: Int) -> Bool
        let cases: [(String, Bool, Matcher)] = [
            ("*/15 * * * *", true, { m, _, _, _ in m % 15 == 0 }),
            ("30 2 * * *", false, { m, h, _, _ in m == 30 && h == 2 }),
            ("0 * * * *", true, { m, _, _, _ in m == 0 }),
            ("*/10 1-3 * * *", false, { m, h, _, _ in m % 10 == 0 && (1...3).contains(h) }),
            ("@daily", false, { m, h, _, _ in m == 0 && h == 0 }),
            ("59 1 * * *", false, { m, h, _, _ in m == 59 && h == 1 }),
            ("0 3 * * *", false, { m, h, _, _ in m == 0 && h == 3 }),
            ("45 23 * * SUN", false, { m, h, _, w in m == 45 && h == 23 && w == 1 }),
            ("5 0 8 * 6", false, { m, h, d, w in m == 5 && h == 0 && (d == 8 || w == 7) }),
            ("20,40 2 * * *", false, { m, h, _, _ in (m == 20 || m == 40) && h == 2 }),
        ]
        let windows: [(String, Date)] = [
            ("America/New_York", utcDate(2024, 3, 9)), ("America/New_York", utcDate(2024, 11, 2)),
            ("Europe/Berlin", utcDate(2024, 3, 30)), ("Europe/Berlin", utcDate(2024, 10, 26)),
            ("America/Santiago", utcDate(2024, 9, 6)), ("America/Santiago", utcDate(2024, 4, 5)),
            ("Australia/Lord_Howe", utcDate(2024, 4, 6)), ("Australia/Lord_Howe", utcDate(2024, 10, 5)),
        ]
        var totalFires = 0
        for (id, windowStart) in windows {
            let tz = try zone(id)
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = tz
            let minutes = 3 * 1440
            // Wall-clock minute (as a comparable key) and components for each real minute.
            var walls: [(key: Int, minute: Int, hour: Int, day: Int, weekday: Int)] = []
            for i in 0...minutes {
                let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .weekday],
                                                from: windowStart + Double(i * 60))
                guard let y = c.year, let mo = c.month, let d = c.day, let h = c.hour, let mi = c.minute,
                      let w = c.weekday else { return XCTFail("components") }
                walls.append((((y * 100 + mo) * 100 + d) * 1440 + h * 60 + mi, mi, h, d, w))
            }
            var lastIndex: [Int: Int] = [:]
            for (i, wall) in walls.enumerated() { lastIndex[wall.key] = i }
            for (text, everyHour, matches) in cases {
                var expected: [Date] = []
                var shadowedUpTo = Int.min  // wall key up to which a shifted gap match hides real minutes
                for i in 1...minutes {
                    let wall = walls[i]
                    let instant = windowStart + Double(i * 60)
                    let gapStart = walls[i - 1].key + 1
                    if !everyHour && wall.key > gapStart && wall.key - gapStart < 200 {
                        // A gap: the first matching skipped minute fires, shifted by the gap's length.
                        if let first = (gapStart..<wall.key).first(where: {
                            matches($0 % 1440 % 60, $0 % 1440 / 60, wall.day, wall.weekday)
                        }) {
                            expected.append(instant + Double((first - gapStart) * 60))
                            shadowedUpTo = first + (wall.key - gapStart)
                        }
                    }
                    guard matches(wall.minute, wall.hour, wall.day, wall.weekday) else { continue }
                    if everyHour {
                        expected.append(instant)
                    } else if lastIndex[wall.key] == i && wall.key > shadowedUpTo {
                        expected.append(instant)
                    }
                }
                expected.sort()
                var actual: [Date] = []
                var cursor = windowStart
                let cron = try CronExpression(parsing: text)
                while let next = cron.next(after: cursor, in: tz), next <= windowStart + Double(minutes * 60) {
                    actual.append(next)
                    cursor = next
                }
                if actual != expected {  // format only on failure: DateFormatter is slow
                    XCTAssertEqual(actual.map { local($0, tz) }, expected.map { local($0, tz) }, "\(text) in \(id)")
                }
                totalFires += expected.count
                // Arbitrary query instants (not just fire times), including inside repeated hours.
                for q in stride(from: 30, to: minutes * 60, by: 7 * 60 + 13).map({ windowStart + Double($0) }) {
                    if let want = expected.last(where: { $0 < q }) {
                        XCTAssertEqual(cron.previous(before: q, in: tz), want, "\(text) in \(id) before \(q)")
                    }
                    if let want = expected.first(where: { $0 > q }) {
                        XCTAssertEqual(cron.next(after: q, in: tz), want, "\(text) in \(id) after \(q)")
                    }
                }
            }
        }
        XCTAssertGreaterThan(totalFires, 1000)  // the oracle really produced fires
    }
}
