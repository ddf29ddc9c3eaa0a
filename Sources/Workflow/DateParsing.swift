import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Dates and timestamps as written in DAG files and on the command line.
public enum DateParsing {
    /// Parses `2024-01-01` (midnight in `timeZone`), `2024-01-01T06:00[:SS]` or `2024-01-01 06:00[:SS]`
    /// (wall time in `timeZone`), and either of those with `Z` or `±HH:MM` (that offset wins).
    public static func parse(_ text: String, in timeZone: TimeZone) -> Date? {
        var rest = Substring(text.trimmingCharacters(in: .whitespaces))
        guard let year = takeInt(&rest, digits: 4), take(&rest, "-"),
              let month = takeInt(&rest, digits: 2), take(&rest, "-"),
              let day = takeInt(&rest, digits: 2) else { return nil }
        var hour = 0, minute = 0, second = 0
        var fraction = 0.0
        var zone = timeZone
        if take(&rest, "T") || take(&rest, " ") {
            guard let h = takeInt(&rest, digits: 2), take(&rest, ":"), let m = takeInt(&rest, digits: 2) else { return nil }
            hour = h; minute = m
            if take(&rest, ":") {
                guard let s = takeInt(&rest, digits: 2) else { return nil }
                second = s
                if take(&rest, ".") {
                    var digits = ""
                    while let c = rest.first, c.isASCII, c.isNumber { digits.append(c); rest.removeFirst() }
                    fraction = Double("0." + digits) ?? 0
                }
            }
            if take(&rest, "Z") || take(&rest, "z") {
                zone = TimeZone(secondsFromGMT: 0) ?? timeZone
            } else if let sign = rest.first, sign == "+" || sign == "-" {
                rest.removeFirst()
                guard let oh = takeInt(&rest, digits: 2) else { return nil }
                _ = take(&rest, ":")
                let om = takeInt(&rest, digits: 2) ?? 0
                let offset = (oh * 3600 + om * 60) * (sign == "-" ? -1 : 1)
                guard let fixed = TimeZone(secondsFromGMT: offset) else { return nil }
                zone = fixed
            }
        }
        guard rest.isEmpty, (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61 else { return nil }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        let components = DateComponents(year: year, month: month, day: day, hour: hour, minute: minute, second: second)
        // Calendar rolls 2024-02-30 over into March: reject instead of guessing.
        guard let date = calendar.date(from: components),
              calendar.component(.month, from: date) == month,
              calendar.component(.day, from: date) == day else { return nil }
        return date.addingTimeInterval(fraction)
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

    /// Calendar fields with gmtime_r: formatting run ids and templates with ICU formatters was a
    /// measurable share of each task's dispatch.
    private static func fields(_ date: Date, offset: Int) -> (date: String, time: String) {
        var seconds = time_t((date.timeIntervalSince1970 + Double(offset)).rounded(.down))
        var parts = tm()
        gmtime_r(&seconds, &parts)
        return ("\(pad(Int(parts.tm_year) + 1900, 4))-\(pad(Int(parts.tm_mon) + 1, 2))-\(pad(Int(parts.tm_mday), 2))",
                "\(pad(Int(parts.tm_hour), 2)):\(pad(Int(parts.tm_min), 2)):\(pad(Int(parts.tm_sec), 2))")
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

    private static func takeInt(_ rest: inout Substring, digits: Int) -> Int? {
        let prefix = rest.prefix(digits)
        guard prefix.count == digits, prefix.allSatisfy({ $0.isASCII && $0.isNumber }), let value = Int(prefix) else { return nil }
        rest.removeFirst(digits)
        return value
    }
}
