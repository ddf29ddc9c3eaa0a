import Foundation

/// A DAG's schedule in its time zone, and the Airflow data-interval rules built on it:
/// a scheduled run with logical date D covers [D, next(D)) and may start once that interval has ended.
public struct Timetable: Sendable, Equatable {
    /// nil when the DAG runs only when triggered.
    public let cron: CronExpression?
    public let timeZone: TimeZone

    public init(cron: CronExpression?, timeZone: TimeZone) {
        self.cron = cron
        self.timeZone = timeZone
    }

    public var description: String { cron?.description ?? "None" }

    /// The first fire time at or after `date`.
    public func firstFire(atOrAfter date: Date) -> Date? {
        cron?.next(after: date.addingTimeInterval(-0.001), in: timeZone)
    }

    public func next(after date: Date) -> Date? { cron?.next(after: date, in: timeZone) }

    /// The last fire time at or before `date`.
    public func lastFire(atOrBefore date: Date) -> Date? {
        cron?.previous(before: date.addingTimeInterval(0.001), in: timeZone)
    }

    /// The data interval of a scheduled run whose logical date is `logicalDate`.
    public func dataInterval(forScheduled logicalDate: Date) -> DateInterval? {
        guard let end = next(after: logicalDate) else { return nil }
        return DateInterval(start: logicalDate, end: end)
    }

    /// The latest logical date whose interval has fully ended at `now` (next(D) <= now).
    public func latestCompleteLogicalDate(asOf now: Date) -> Date? {
        guard let cron, let lastFire = cron.previous(before: now.addingTimeInterval(0.001), in: timeZone) else { return nil }
        return cron.previous(before: lastFire, in: timeZone)
    }

    /// Every logical date of the schedule from `start` through `end`, both inclusive.
    public func logicalDates(from start: Date, through end: Date, limit: Int = 100_000) -> [Date] {
        var dates: [Date] = []
        var cursor = firstFire(atOrAfter: start)
        while let date = cursor, date <= end, CivilDate.isSupported(date), dates.count < limit {
            dates.append(date)
            cursor = next(after: date)
        }
        return dates
    }

    /// The data interval of a triggered run: the schedule's interval that contains `logicalDate`,
    /// or the single instant for a DAG without a schedule.
    public func dataInterval(forManual logicalDate: Date) -> DateInterval {
        if let cron, let start = cron.previous(before: logicalDate.addingTimeInterval(0.001), in: timeZone),
           let end = cron.next(after: start, in: timeZone) {
            return DateInterval(start: start, end: end)
        }
        return DateInterval(start: logicalDate, end: logicalDate)
    }
}
