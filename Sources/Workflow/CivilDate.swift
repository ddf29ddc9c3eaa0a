import Foundation

/// A calendar date in the proleptic Gregorian calendar, and the day arithmetic behind every date the project
/// reads or writes (Howard Hinnant's days-from-civil algorithms). Foundation's Gregorian `Calendar` switches to
/// the Julian calendar before October 1582, which shifted `start_date: 1500-03-01` by 10 days.
public struct CivilDate: Sendable, Hashable, Comparable {
    public var year: Int
    public var month: Int
    public var day: Int

    public init(year: Int, month: Int, day: Int) {
        (self.year, self.month, self.day) = (year, month, day)
    }

    /// The date `days` days after 1970-01-01.
    public init(daysSince1970 days: Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        day = doy - (153 * mp + 2) / 5 + 1
        month = mp < 10 ? mp + 3 : mp - 9
        year = yoe + era * 400 + (month <= 2 ? 1 : 0)
    }

    /// Days since 1970-01-01 (negative before).
    public var daysSince1970: Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// Whether month and day exist in that year (no 2024-02-30).
    public var isValid: Bool {
        (1...12).contains(month) && day >= 1 && day <= Self.daysInMonth(year: year, month: month)
    }

    public static func isLeapYear(_ year: Int) -> Bool {
        (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
    }

    public static func daysInMonth(year: Int, month: Int) -> Int {
        switch month {
        case 2: return isLeapYear(year) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    public static func < (a: CivilDate, b: CivilDate) -> Bool {
        (a.year, a.month, a.day) < (b.year, b.month, b.day)
    }

    // MARK: - Instants

    /// Years a date may have, in UTC: run ids and every listing print four digits.
    public static let supportedYears = 1...9999
    /// 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z, in seconds since 1970.
    public static let earliestSecond = Int64(CivilDate(year: 1, month: 1, day: 1).daysSince1970) * 86_400
    public static let latestSecond = Int64(CivilDate(year: 9999, month: 12, day: 31).daysSince1970) * 86_400 + 86_399
    public static let earliestSupported = Date(timeIntervalSince1970: Double(earliestSecond))
    public static let latestSupported = Date(timeIntervalSince1970: Double(latestSecond))

    /// Whether `date` falls in years 1–9999 in UTC.
    public static func isSupported(_ date: Date) -> Bool {
        date >= earliestSupported && date <= latestSupported
    }

    /// Whole seconds since 1970 of `seconds`, rounded down, clamped to about ±300,000 years, so that no value a
    /// store or a file can hold traps the conversion (validation keeps real dates inside years 1–9999).
    public static func wholeSecond(_ seconds: Double) -> Int64 {
        let limit = 1e13
        guard seconds.isFinite else { return seconds > 0 ? Int64(limit) : -Int64(limit) }
        return Int64(min(max(seconds, -limit), limit).rounded(.down))
    }

    /// Calendar date and time of day of a count of seconds since 1970 (read as UTC wall time).
    public static func fields(ofSecond second: Int64) -> (date: CivilDate, hour: Int, minute: Int, second: Int) {
        let days = second >= 0 ? second / 86_400 : (second - 86_399) / 86_400
        let secondOfDay = Int(second - days * 86_400)
        return (CivilDate(daysSince1970: Int(days)), secondOfDay / 3600, secondOfDay % 3600 / 60, secondOfDay % 60)
    }
}
