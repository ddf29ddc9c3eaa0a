import Foundation
import XCTest
@testable import Workflow

final class TimetableTests: XCTestCase {

    private func utc(_ y: Int, _ mo: Int, _ d: Int, _ h: Int = 0, _ mi: Int = 0, _ s: Int = 0) -> Date {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(secondsFromGMT: 0) ?? .current
        return calendar.date(from: DateComponents(year: y, month: mo, day: d, hour: h, minute: mi, second: s))
            ?? Date(timeIntervalSince1970: 0)
    }

    private func timetable(_ schedule: String?, _ zone: String = "UTC") throws -> Timetable {
        Timetable(cron: try schedule.map { try CronExpression(parsing: $0) }, timeZone: try XCTUnwrap(TimeZone(identifier: zone)))
    }

    /// `start .. end` as local ISO times, for readable assertions.
    private func local(_ interval: DateInterval?, _ timetable: Timetable) -> String {
        guard let interval else { return "nil" }
        return DateParsing.iso(interval.start, in: timetable.timeZone) + " .. " + DateParsing.iso(interval.end, in: timetable.timeZone)
    }

    private func hours(_ interval: DateInterval?) -> Double? { interval.map { $0.duration / 3600 } }

    // MARK: - Data intervals

    func testScheduledRunCoversFromItsLogicalDateToTheNextFire() throws {
        let daily = try timetable("@daily")
        XCTAssertEqual(daily.dataInterval(forScheduled: utc(2024, 1, 1)), DateInterval(start: utc(2024, 1, 1), end: utc(2024, 1, 2)))
        let hourly = try timetable("@hourly")
        XCTAssertEqual(hourly.dataInterval(forScheduled: utc(2024, 1, 1, 23)), DateInterval(start: utc(2024, 1, 1, 23), end: utc(2024, 1, 2)))
        let weekdays = try timetable("0 6 * * 1-5")
        // Friday 2024-01-05 06:00 covers the weekend, up to Monday 06:00.
        XCTAssertEqual(weekdays.dataInterval(forScheduled: utc(2024, 1, 5, 6)), DateInterval(start: utc(2024, 1, 5, 6), end: utc(2024, 1, 8, 6)))
        XCTAssertEqual(try timetable("@weekly").dataInterval(forScheduled: utc(2024, 1, 7)),
                       DateInterval(start: utc(2024, 1, 7), end: utc(2024, 1, 14)))
        XCTAssertEqual(try timetable("@yearly").dataInterval(forScheduled: utc(2024, 1, 1)),
                       DateInterval(start: utc(2024, 1, 1), end: utc(2025, 1, 1)))
    }

    func testNoScheduleHasNoScheduledIntervals() throws {
        let none = try timetable(nil)
        XCTAssertEqual(none.description, "None")
        XCTAssertNil(none.dataInterval(forScheduled: utc(2024, 1, 1)))
        XCTAssertNil(none.next(after: utc(2024, 1, 1)))
        XCTAssertNil(none.firstFire(atOrAfter: utc(2024, 1, 1)))
        XCTAssertNil(none.latestCompleteLogicalDate(asOf: utc(2024, 6, 1)))
        XCTAssertEqual(none.logicalDates(from: utc(2024, 1, 1), through: utc(2024, 2, 1)), [])
    }

    func testManualRunGetsTheScheduleIntervalContainingIt() throws {
        let daily = try timetable("@daily")
        XCTAssertEqual(daily.dataInterval(forManual: utc(2024, 1, 5, 13, 27, 9)), DateInterval(start: utc(2024, 1, 5), end: utc(2024, 1, 6)))
        // A logical date on a fire time is the start of its interval.
        XCTAssertEqual(daily.dataInterval(forManual: utc(2024, 1, 5)), DateInterval(start: utc(2024, 1, 5), end: utc(2024, 1, 6)))
        let hourly = try timetable("@hourly", "Europe/Paris")
        XCTAssertEqual(hourly.dataInterval(forManual: utc(2024, 1, 5, 13, 59, 59)),
                       DateInterval(start: utc(2024, 1, 5, 13), end: utc(2024, 1, 5, 14)))
        // Without a schedule the interval is the single instant.
        let none = try timetable(nil)
        let now = utc(2024, 1, 5, 13, 27, 9)
        XCTAssertEqual(none.dataInterval(forManual: now), DateInterval(start: now, end: now))
    }

    func testFirstFireAtOrAfterIncludesAnExactFireTime() throws {
        let daily = try timetable("@daily")
        XCTAssertEqual(daily.firstFire(atOrAfter: utc(2024, 1, 1)), utc(2024, 1, 1))
        XCTAssertEqual(daily.firstFire(atOrAfter: utc(2024, 1, 1, 0, 0, 1)), utc(2024, 1, 2))
        XCTAssertEqual(daily.next(after: utc(2024, 1, 1)), utc(2024, 1, 2))
    }

    // MARK: - latestCompleteLogicalDate

    func testLatestCompleteLogicalDateIsTheLastIntervalThatHasEnded() throws {
        let daily = try timetable("@daily")
        // At 2024-01-03 12:00 the interval [01-02, 01-03) has ended; [01-03, 01-04) has not.
        XCTAssertEqual(daily.latestCompleteLogicalDate(asOf: utc(2024, 1, 3, 12)), utc(2024, 1, 2))
        // The interval ending exactly now counts as complete.
        XCTAssertEqual(daily.latestCompleteLogicalDate(asOf: utc(2024, 1, 3)), utc(2024, 1, 2))
        XCTAssertEqual(daily.latestCompleteLogicalDate(asOf: utc(2024, 1, 2, 23, 59, 59)), utc(2024, 1, 1))

        let hourly = try timetable("@hourly")
        XCTAssertEqual(hourly.latestCompleteLogicalDate(asOf: utc(2024, 1, 3, 10, 30)), utc(2024, 1, 3, 9))

        let monthly = try timetable("@monthly")
        XCTAssertEqual(monthly.latestCompleteLogicalDate(asOf: utc(2024, 3, 15)), utc(2024, 2, 1))
        for date in [utc(2024, 1, 3, 12), utc(2024, 1, 3), utc(2024, 1, 2, 23, 59, 59)] {
            let latest = try XCTUnwrap(daily.latestCompleteLogicalDate(asOf: date))
            let end = try XCTUnwrap(daily.dataInterval(forScheduled: latest)?.end)
            XCTAssertLessThanOrEqual(end, date)
            XCTAssertGreaterThan(try XCTUnwrap(daily.next(after: end)), date)
        }
    }

    // MARK: - logicalDates

    func testLogicalDatesAreInclusiveAtBothEnds() throws {
        let daily = try timetable("@daily")
        XCTAssertEqual(daily.logicalDates(from: utc(2024, 1, 1), through: utc(2024, 1, 3)),
                       [utc(2024, 1, 1), utc(2024, 1, 2), utc(2024, 1, 3)])
        XCTAssertEqual(daily.logicalDates(from: utc(2024, 1, 1, 0, 0, 1), through: utc(2024, 1, 3, 23)),
                       [utc(2024, 1, 2), utc(2024, 1, 3)])
        XCTAssertEqual(daily.logicalDates(from: utc(2024, 1, 1, 1), through: utc(2024, 1, 1, 23)), [])
        XCTAssertEqual(daily.logicalDates(from: utc(2024, 1, 1), through: utc(2024, 12, 31)).count, 366)
        XCTAssertEqual(daily.logicalDates(from: utc(2024, 1, 1), through: utc(2024, 12, 31), limit: 10).count, 10)
        XCTAssertEqual(daily.logicalDates(from: utc(2024, 1, 5), through: utc(2024, 1, 1)), [])
    }

    // MARK: - Month ends

    func testDay31OnlyFiresInLongMonths() throws {
        let table = try timetable("0 0 31 * *")
        XCTAssertEqual(table.logicalDates(from: utc(2024, 1, 1), through: utc(2024, 12, 31)),
                       [1, 3, 5, 7, 8, 10, 12].map { utc(2024, $0, 31) })
        XCTAssertEqual(table.dataInterval(forScheduled: utc(2024, 1, 31)), DateInterval(start: utc(2024, 1, 31), end: utc(2024, 3, 31)))
        XCTAssertEqual(table.dataInterval(forScheduled: utc(2024, 8, 31)), DateInterval(start: utc(2024, 8, 31), end: utc(2024, 10, 31)))
        XCTAssertEqual(table.latestCompleteLogicalDate(asOf: utc(2024, 4, 15)), utc(2024, 1, 31))
        XCTAssertEqual(table.dataInterval(forManual: utc(2024, 2, 29, 12)), DateInterval(start: utc(2024, 1, 31), end: utc(2024, 3, 31)))
    }

    func testMonthlyIntervalsFollowCalendarMonths() throws {
        let table = try timetable("@monthly")
        XCTAssertEqual(table.dataInterval(forScheduled: utc(2024, 1, 1)), DateInterval(start: utc(2024, 1, 1), end: utc(2024, 2, 1)))
        XCTAssertEqual(table.dataInterval(forScheduled: utc(2024, 2, 1))?.duration, 29 * 86_400)  // leap year
        XCTAssertEqual(table.dataInterval(forScheduled: utc(2023, 2, 1))?.duration, 28 * 86_400)
        XCTAssertEqual(table.dataInterval(forScheduled: utc(2024, 12, 1)), DateInterval(start: utc(2024, 12, 1), end: utc(2025, 1, 1)))
        XCTAssertEqual(table.logicalDates(from: utc(2024, 1, 1), through: utc(2024, 12, 31)).count, 12)
    }

    func testMonthlyInAZoneWithDaylightSavingTime() throws {
        let table = try timetable("@monthly", "Europe/Paris")
        // March 1 00:00 CET = Feb 29 23:00Z; April 1 00:00 CEST = March 31 22:00Z: the interval is 1 hour short of 31 days.
        let march = try XCTUnwrap(table.dataInterval(forScheduled: utc(2024, 2, 29, 23)))
        XCTAssertEqual(local(march, table), "2024-03-01T00:00:00+01:00 .. 2024-04-01T00:00:00+02:00")
        XCTAssertEqual(hours(march), 31 * 24 - 1)
    }

    // MARK: - Daylight saving time: daily at 02:30

    func testDaily0230InNewYork() throws {
        let table = try timetable("30 2 * * *", "America/New_York")
        // Spring forward 2024-03-10: 02:30 does not exist; Airflow shifts it by the gap's length, to 03:30 EDT.
        let dates = table.logicalDates(from: utc(2024, 3, 9), through: utc(2024, 3, 12))
        XCTAssertEqual(dates.map { DateParsing.iso($0, in: table.timeZone) },
                       ["2024-03-09T02:30:00-05:00", "2024-03-10T03:30:00-04:00", "2024-03-11T02:30:00-04:00"])
        XCTAssertEqual(local(table.dataInterval(forScheduled: dates[0]), table), "2024-03-09T02:30:00-05:00 .. 2024-03-10T03:30:00-04:00")
        XCTAssertEqual(hours(table.dataInterval(forScheduled: dates[0])), 24)
        XCTAssertEqual(local(table.dataInterval(forScheduled: dates[1]), table), "2024-03-10T03:30:00-04:00 .. 2024-03-11T02:30:00-04:00")
        XCTAssertEqual(hours(table.dataInterval(forScheduled: dates[1])), 23)

        // Fall back 2024-11-03: 02:30 exists once (EST), the interval before it is 25 hours.
        let fall = table.logicalDates(from: utc(2024, 11, 2), through: utc(2024, 11, 4, 12))
        XCTAssertEqual(fall.map { DateParsing.iso($0, in: table.timeZone) },
                       ["2024-11-02T02:30:00-04:00", "2024-11-03T02:30:00-05:00", "2024-11-04T02:30:00-05:00"])
        XCTAssertEqual(hours(table.dataInterval(forScheduled: fall[0])), 25)
        XCTAssertEqual(hours(table.dataInterval(forScheduled: fall[1])), 24)
    }

    func testDaily0230InParis() throws {
        let table = try timetable("30 2 * * *", "Europe/Paris")
        // Spring forward 2024-03-31 at 02:00 CET -> 03:00 CEST: 02:30 is shifted by the gap, to 03:30 CEST.
        let spring = table.logicalDates(from: utc(2024, 3, 30), through: utc(2024, 4, 1, 12))
        XCTAssertEqual(spring.map { DateParsing.iso($0, in: table.timeZone) },
                       ["2024-03-30T02:30:00+01:00", "2024-03-31T03:30:00+02:00", "2024-04-01T02:30:00+02:00"])
        XCTAssertEqual(spring[1], utc(2024, 3, 31, 1, 30))
        XCTAssertEqual(hours(table.dataInterval(forScheduled: spring[0])), 24)
        XCTAssertEqual(hours(table.dataInterval(forScheduled: spring[1])), 23)

        // Fall back 2024-10-27 at 03:00 CEST -> 02:00 CET: 02:30 happens twice and fires at the second (CET) only,
        // as Airflow's make_aware (fold=1) reads it.
        let fall = table.logicalDates(from: utc(2024, 10, 26), through: utc(2024, 10, 28, 12))
        XCTAssertEqual(fall.map { DateParsing.iso($0, in: table.timeZone) },
                       ["2024-10-26T02:30:00+02:00", "2024-10-27T02:30:00+01:00", "2024-10-28T02:30:00+01:00"])
        XCTAssertEqual(fall[1], utc(2024, 10, 27, 1, 30))
        XCTAssertEqual(hours(table.dataInterval(forScheduled: fall[0])), 25)
        XCTAssertEqual(hours(table.dataInterval(forScheduled: fall[1])), 24)
        // A manual run at the first 02:30 (CEST) lies in the interval that ends at the second.
        XCTAssertEqual(table.dataInterval(forManual: utc(2024, 10, 27, 0, 30)),
                       DateInterval(start: utc(2024, 10, 26, 0, 30), end: utc(2024, 10, 27, 1, 30)))
    }

    func testDailyMidnightKeepsLocalDatesAcrossDst() throws {
        let table = try timetable("@daily", "Europe/Paris")
        let dates = table.logicalDates(from: utc(2024, 3, 29), through: utc(2024, 4, 1))
        XCTAssertEqual(dates.map { DateParsing.day($0, in: table.timeZone) }, ["2024-03-30", "2024-03-31", "2024-04-01"])
        XCTAssertEqual(dates, [utc(2024, 3, 29, 23), utc(2024, 3, 30, 23), utc(2024, 3, 31, 22)])
        XCTAssertEqual(hours(table.dataInterval(forScheduled: dates[1])), 23)
    }

    // MARK: - Daylight saving time: hourly

    func testHourlyInNewYork() throws {
        let table = try timetable("@hourly", "America/New_York")
        // Spring forward: 01:00 EST, then 03:00 EDT; the missing 02:00 does not fire (_covers_every_hour).
        let spring = table.logicalDates(from: utc(2024, 3, 10, 5), through: utc(2024, 3, 10, 9))
        XCTAssertEqual(spring.map { DateParsing.iso($0, in: table.timeZone) },
                       ["2024-03-10T00:00:00-05:00", "2024-03-10T01:00:00-05:00", "2024-03-10T03:00:00-04:00",
                        "2024-03-10T04:00:00-04:00", "2024-03-10T05:00:00-04:00"])
        XCTAssertEqual(spring.map { hours(table.dataInterval(forScheduled: $0)) }, [1, 1, 1, 1, 1])

        // Fall back: Airflow's _covers_every_hour rule runs the repeated hour, 01:00 EDT and 01:00 EST.
        let fall = table.logicalDates(from: utc(2024, 11, 3, 4), through: utc(2024, 11, 3, 8))
        XCTAssertEqual(fall.map { DateParsing.iso($0, in: table.timeZone) },
                       ["2024-11-03T00:00:00-04:00", "2024-11-03T01:00:00-04:00", "2024-11-03T01:00:00-05:00",
                        "2024-11-03T02:00:00-05:00", "2024-11-03T03:00:00-05:00"])
        XCTAssertEqual(local(table.dataInterval(forScheduled: fall[1]), table), "2024-11-03T01:00:00-04:00 .. 2024-11-03T01:00:00-05:00")
        XCTAssertEqual(fall.map { hours(table.dataInterval(forScheduled: $0)) }, [1, 1, 1, 1, 1])
        // 01:30 EST (06:30Z) lies inside the interval that began at 01:00 EST.
        XCTAssertEqual(table.dataInterval(forManual: utc(2024, 11, 3, 6, 30)), DateInterval(start: utc(2024, 11, 3, 6), end: utc(2024, 11, 3, 7)))
        XCTAssertEqual(table.latestCompleteLogicalDate(asOf: utc(2024, 11, 3, 6, 30)), utc(2024, 11, 3, 5))
        XCTAssertEqual(table.latestCompleteLogicalDate(asOf: utc(2024, 11, 3, 7)), utc(2024, 11, 3, 6))
    }

    func testHourlyInParis() throws {
        let table = try timetable("@hourly", "Europe/Paris")
        let spring = table.logicalDates(from: utc(2024, 3, 31, 0), through: utc(2024, 3, 31, 2))
        XCTAssertEqual(spring.map { DateParsing.iso($0, in: table.timeZone) },
                       ["2024-03-31T01:00:00+01:00", "2024-03-31T03:00:00+02:00", "2024-03-31T04:00:00+02:00"])
        let fall = table.logicalDates(from: utc(2024, 10, 26, 23), through: utc(2024, 10, 27, 2))
        XCTAssertEqual(fall.map { DateParsing.iso($0, in: table.timeZone) },
                       ["2024-10-27T01:00:00+02:00", "2024-10-27T02:00:00+02:00", "2024-10-27T02:00:00+01:00",
                        "2024-10-27T03:00:00+01:00"])
        XCTAssertEqual(fall.map { hours(table.dataInterval(forScheduled: $0)) }, [1, 1, 1, 1])
        // Over the fall-back day there are 25 hourly runs for 25 hours (Airflow runs the repeated hour).
        XCTAssertEqual(table.logicalDates(from: utc(2024, 10, 26, 22), through: utc(2024, 10, 27, 22, 59)).count, 25)
    }
}
