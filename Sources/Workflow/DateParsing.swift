import Foundation

/// Dates and timestamps as written in DAG files and on the command line, in the proleptic Gregorian calendar
/// (`CivilDate`), for years 1–9999.
public enum DateParsing {
    /// Why a text is not a usable date.
    public enum Problem: Error, Sendable, Equatable {
        case malformed
        /// A real date, but before year 1 or after year 9999 (in UTC): run ids print four-digit years.
        case outOfRange

        /// The end of a message about the text, e.g. `'0000-01-01' is outside years 1–9999`.
        public var message: String {
            switch self {
            case .malformed: return "is not a date"
            case .outOfRange: return "is outside years 1–9999"
            }
        }
    }

    /// Parses `2024-01-01` (midnight in `timeZone`), `2024-01-01T06:00[:SS]` or `2024-01-01 06:00[:SS]`
    /// (wall time in `timeZone`), and either of those with `Z` or `±HH:MM` (that offset wins).
    public static func parse(_ text: String, in timeZone: TimeZone) -> Date? {
        try? parseChecked(text, in: timeZone)
    }

    /// `parse`, telling a malformed text from a date outside years 1–9999.
    public static func parseChecked(_ text: String, in timeZone: TimeZone) throws(Problem) -> Date {
        var rest = Substring(text.trimmingCharacters(in: .whitespaces))
        // More than four year digits are read (and refused as out of range) rather than called malformed.
        guard let year = takeInt(&rest, digits: 4, upTo: 8), take(&rest, "-"),
              let month = takeInt(&rest, digits: 2), take(&rest, "-"),
              let day = takeInt(&rest, digits: 2) else { throw .malformed }
        var hour = 0, minute = 0, second = 0
        var fraction = 0.0
        var fixedOffset: Int?
        if take(&rest, "T") || take(&rest, " ") {
            guard let h = takeInt(&rest, digits: 2), take(&rest, ":"), let m = takeInt(&rest, digits: 2) else { throw .malformed }
            hour = h; minute = m
            if take(&rest, ":") {
                guard let s = takeInt(&rest, digits: 2) else { throw .malformed }
                second = s
                if take(&rest, ".") {
                    var digits = ""
                    while let c = rest.first, c.isASCII, c.isNumber { digits.append(c); rest.removeFirst() }
                    fraction = Double("0." + digits) ?? 0
                }
            }
            if take(&rest, "Z") || take(&rest, "z") {
                fixedOffset = 0
            } else if let sign = rest.first, sign == "+" || sign == "-" {
                rest.removeFirst()
                guard let oh = takeInt(&rest, digits: 2), oh <= 18 else { throw .malformed }
                _ = take(&rest, ":")
                let om = takeInt(&rest, digits: 2) ?? 0
                guard om < 60 else { throw .malformed }
                fixedOffset = (oh * 3600 + om * 60) * (sign == "-" ? -1 : 1)
            }
        }
        // Leap second 60 is read as the next minute's 00, as Foundation did.
        let civil = CivilDate(year: year, month: month, day: day)
        guard rest.isEmpty, civil.isValid, hour < 24, minute < 60, second < 61 else { throw .malformed }
        guard CivilDate.supportedYears.contains(year) else { throw .outOfRange }
        let naive = Int64(civil.daysSince1970) * 86_400 + Int64(hour * 3600 + minute * 60 + second)
        let instant = fixedOffset.map { naive - Int64($0) } ?? instant(ofWall: naive, in: timeZone)
        guard (CivilDate.earliestSecond...CivilDate.latestSecond).contains(instant) else { throw .outOfRange }
        return Date(timeIntervalSince1970: Double(instant) + fraction)
    }

    /// The instant of a wall time in `zone`, read as the schedule reads it (Airflow's `make_aware`, `fold=1`): an
    /// ambiguous time (the hour repeated when clocks go back) is its second occurrence; a time in a spring-forward gap
    /// is read with the offset in effect before the gap (02:30 becomes 03:30).
    static func instant(ofWall naive: Int64, in zone: TimeZone) -> Int64 {
        WallTimeResolution(wall: naive, in: zone).airflowInstant(ofWall: naive)
    }

    /// `2024-01-01T00:00:00Z`, the form used in run ids and JSON.
    public static func isoUTC(_ date: Date) -> String {
        let c = fields(date, offset: 0)
        return "\(c.date)T\(c.time)Z"
    }

    /// `2024-01-01T00:00:00+01:00` in the given zone.
    public static func iso(_ date: Date, in timeZone: TimeZone) -> String {
        let offset = timeZone.secondsFromGMT(for: date)
        let c = fields(date, offset: offset)
        if offset == 0 { return "\(c.date)T\(c.time)Z" }
        let sign = offset < 0 ? "-" : "+"
        let minutes = abs(offset) / 60
        return "\(c.date)T\(c.time)\(sign)\(pad(minutes / 60, 2)):\(pad(minutes % 60, 2))"
    }

    /// `2024-01-01`: the date of `date` in the given zone.
    public static func day(_ date: Date, in timeZone: TimeZone) -> String {
        fields(date, offset: timeZone.secondsFromGMT(for: date)).date
    }

    /// Calendar fields by civil arithmetic: formatting run ids and templates with ICU formatters was a measurable
    /// share of each task's dispatch. Instants no file can produce are clamped, never trapped.
    private static func fields(_ date: Date, offset: Int) -> (date: String, time: String) {
        let parts = CivilDate.fields(ofSecond: CivilDate.wholeSecond(date.timeIntervalSince1970 + Double(offset)))
        return ("\(pad(parts.date.year, 4))-\(pad(parts.date.month, 2))-\(pad(parts.date.day, 2))",
                "\(pad(parts.hour, 2)):\(pad(parts.minute, 2)):\(pad(parts.second, 2))")
    }

    private static func pad(_ value: Int, _ width: Int) -> String {
        let text = String(value)
        return text.count >= width ? text : String(repeating: "0", count: width - text.count) + text
    }

    private static func take(_ rest: inout Substring, _ literal: Character) -> Bool {
        guard rest.first == literal else { return false }
        rest.removeFirst()
        return true
    }

    private static func takeInt(_ rest: inout Substring, digits: Int, upTo maxDigits: Int? = nil) -> Int? {
        let prefix = rest.prefix { $0.isASCII && $0.isNumber }.prefix(maxDigits ?? digits)
        guard prefix.count >= digits, let value = Int(prefix) else { return nil }
        rest.removeFirst(prefix.count)
        return value
    }
}
