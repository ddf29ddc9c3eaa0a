import Foundation

/// A parsed schedule: a 5-field cron expression or a preset.
///
/// ## Syntax
/// Five whitespace-separated fields `minute hour day-of-month month day-of-week`, or one of the
/// presets `@hourly`, `@daily` (= `@midnight`), `@weekly`, `@monthly`, `@yearly` (= `@annually`);
/// presets are case-insensitive. Each field is a comma-separated list of `*`, `n`, `a-b`, `*/s`,
/// `a-b/s` or `a/s` (= `a-max/s`). Months accept `JAN`-`DEC`, weekdays `SUN`-`SAT` (any case);
/// weekday `0` and `7` both mean Sunday. Ranges do not wrap (`FRI-MON` is an error). A step must be
/// between 1 and the number of values in the field.
///
/// ## Day matching (Vixie cron rule)
/// If both day-of-month and day-of-week are restricted, a day matches when EITHER matches;
/// otherwise both must match. As in Vixie cron, a field counts as unrestricted when it starts
/// with `*` — so `*/2` is unrestricted for this rule and `0 0 */2 * 1` means "odd days that are Mondays".
///
/// ## Time zones and daylight saving time
/// Fields are matched against the local wall-clock time (proleptic Gregorian calendar) in the
/// time zone passed to `next`/`previous`. Every matching wall-clock minute is mapped to one instant:
/// - a wall time that exists once maps to that instant;
/// - a wall time that does not exist (spring-forward gap, e.g. 02:30 on 2024-03-10 in New York)
///   maps to the instant the gap ends (03:00 local). A daily 02:30 job therefore still runs that day,
///   exactly once; several matching wall times in one gap (`*/15 2 * * *`) collapse into that single
///   instant, as does a match at the first wall time after the gap (03:00 in the example);
/// - an ambiguous wall time (fall-back, 01:30 twice on 2024-11-03 in New York) maps to its FIRST
///   (daylight-time) occurrence only. Consequently `0 * * * *` fires at 00:00 EDT, 01:00 EDT and then
///   02:00 EST: the repeated 01:00 EST is skipped, because it is not a new wall-clock time.
///
/// The fire times are the set of these instants. This mapping never decreases as wall time advances,
/// so `next` and `previous` walk that one set and are mutually consistent: for a fire time `F`,
/// `previous(before: next(after: F)!) == F` and `next(after: previous(before: F)!) == F`.
///
/// `next`/`previous` return nil when nothing matches within roughly 8 years (enough for any
/// leap-day schedule, e.g. 2096-02-29 to 2104-02-29), e.g. for `0 0 30 2 *`.
///
/// Equality compares the parsed schedule and the source text, so `@daily != 0 0 * * *`.
public struct CronExpression: Sendable, Equatable, CustomStringConvertible {
    // Bit i set = value i allowed.
    private let minutes: UInt64      // 0-59
    private let hours: UInt64        // 0-23
    private let daysOfMonth: UInt64  // 1-31
    private let months: UInt64       // 1-12
    private let daysOfWeek: UInt64   // 0-6, Sunday = 0
    private let domUnrestricted: Bool
    private let dowUnrestricted: Bool
    private let text: String

    /// Accepts 5 fields "minute hour day-of-month month day-of-week" and the presets
    /// @hourly, @daily (=@midnight), @weekly, @monthly, @yearly (=@annually).
    /// Fields: `*`, numbers, ranges `a-b`, steps `*/n` and `a-b/n` and `a/n`, lists `a,b,c`,
    /// month names JAN-DEC and weekday names SUN-SAT (case-insensitive), weekday 0 or 7 = Sunday.
    /// Standard (Vixie) cron rule: when BOTH day-of-month and day-of-week are restricted (neither is `*`),
    /// a day matches if EITHER matches; otherwise both must match.
    public init(parsing text: String) throws(CronError) {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        var fieldsText = trimmed
        if trimmed.hasPrefix("@") {
            guard let expansion = Self.presets[trimmed.lowercased()] else {
                throw CronError(message: "unknown preset '\(trimmed)'; expected one of "
                    + "@hourly, @daily, @midnight, @weekly, @monthly, @yearly, @annually")
            }
            fieldsText = expansion
        }
        let fields = fieldsText.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        guard fields.count == 5 else {
            throw CronError(message: "expected 5 fields, got \(fields.count)")
        }
        minutes = try Self.parseField(fields[0], spec: .minute)
        hours = try Self.parseField(fields[1], spec: .hour)
        daysOfMonth = try Self.parseField(fields[2], spec: .dayOfMonth)
        months = try Self.parseField(fields[3], spec: .month)
        var dow = try Self.parseField(fields[4], spec: .dayOfWeek)
        if dow & (1 << 7) != 0 { dow = (dow & ~(1 << 7)) | 1 }  // 7 is Sunday, stored as 0
        daysOfWeek = dow
        domUnrestricted = fields[2].hasPrefix("*")
        dowUnrestricted = fields[4].hasPrefix("*")
        self.text = trimmed
    }

    /// The original text, trimmed.
    public var description: String { text }

    /// The first fire time strictly after `date`, evaluating the fields on wall-clock time in `timeZone`.
    public func next(after date: Date, in timeZone: TimeZone) -> Date? {
        guard let now = Self.seconds(of: date) else { return nil }
        let (minOffset, _) = Self.offsetBounds(near: now, in: timeZone)
        // Any wall time before `now + minOffset` maps to an instant <= now, so start there.
        var wall = Wall(naive: Self.floorMinute(now + Double(minOffset)))
        let limitYear = wall.year + Self.searchYears
        // Bounded: once wall time passes `now + maxOffset` every instant is after `now`.
        for _ in 0..<Self.maxCandidates {
            guard let match = nextMatch(from: wall, limitYear: limitYear) else { return nil }
            let instant = Self.instant(ofWall: match.naive, in: timeZone)
            if Double(instant) > now { return Date(timeIntervalSince1970: Double(instant)) }
            wall = match
            wall.minute += 1  // nextMatch normalises overflow
        }
        return nil
    }

    /// The last fire time strictly before `date`.
    public func previous(before date: Date, in timeZone: TimeZone) -> Date? {
        guard let now = Self.seconds(of: date) else { return nil }
        let (_, maxOffset) = Self.offsetBounds(near: now, in: timeZone)
        // Any wall time after `now + maxOffset` maps to an instant > now, so start there.
        var wall = Wall(naive: Self.floorMinute(now + Double(maxOffset)))
        let limitYear = wall.year - Self.searchYears
        for _ in 0..<Self.maxCandidates {
            guard let match = previousMatch(from: wall, limitYear: limitYear) else { return nil }
            let instant = Self.instant(ofWall: match.naive, in: timeZone)
            if Double(instant) < now { return Date(timeIntervalSince1970: Double(instant)) }
            wall = match
            wall.minute -= 1  // previousMatch normalises underflow
        }
        return nil
    }

    // MARK: - Wall-clock search

    /// Smallest matching wall time >= `start` (fields of `start` may overflow by one unit).
    private func nextMatch(from start: Wall, limitYear: Int) -> Wall? {
        var w = start
        while w.year <= limitYear {
            guard let month = Self.nextBit(months, from: w.month) else {
                w = Wall(year: w.year + 1, month: 1, day: 1, hour: 0, minute: 0)
                continue
            }
            if month != w.month { w = Wall(year: w.year, month: month, day: 1, hour: 0, minute: 0) }
            if w.day > Self.daysInMonth(year: w.year, month: w.month) {
                w = Wall(year: w.year, month: w.month + 1, day: 1, hour: 0, minute: 0)
                continue
            }
            if !dayMatches(year: w.year, month: w.month, day: w.day) {
                w = Wall(year: w.year, month: w.month, day: w.day + 1, hour: 0, minute: 0)
                continue
            }
            guard let hour = Self.nextBit(hours, from: w.hour) else {
                w = Wall(year: w.year, month: w.month, day: w.day + 1, hour: 0, minute: 0)
                continue
            }
            if hour != w.hour { w.hour = hour; w.minute = 0 }
            guard let minute = Self.nextBit(minutes, from: w.minute) else {
                w.hour += 1; w.minute = 0
                continue
            }
            w.minute = minute
            return w
        }
        return nil
    }

    /// Largest matching wall time <= `start` (fields of `start` may underflow by one unit).
    private func previousMatch(from start: Wall, limitYear: Int) -> Wall? {
        var w = start
        while w.year >= limitYear {
            guard let month = Self.previousBit(months, upTo: w.month) else {
                w = Wall(year: w.year - 1, month: 12, day: 31, hour: 23, minute: 59)
                continue
            }
            if month != w.month { w = Wall(year: w.year, month: month, day: 31, hour: 23, minute: 59) }
            let length = Self.daysInMonth(year: w.year, month: w.month)
            if w.day > length { w.day = length; w.hour = 23; w.minute = 59 }
            if w.day < 1 {
                w = Wall(year: w.year, month: w.month - 1, day: 31, hour: 23, minute: 59)
                continue
            }
            if !dayMatches(year: w.year, month: w.month, day: w.day) {
                w = Wall(year: w.year, month: w.month, day: w.day - 1, hour: 23, minute: 59)
                continue
            }
            guard let hour = Self.previousBit(hours, upTo: w.hour) else {
                w = Wall(year: w.year, month: w.month, day: w.day - 1, hour: 23, minute: 59)
                continue
            }
            if hour != w.hour { w.hour = hour; w.minute = 59 }
            guard let minute = Self.previousBit(minutes, upTo: w.minute) else {
                w.hour -= 1; w.minute = 59
                continue
            }
            w.minute = minute
            return w
        }
        return nil
    }

    private func dayMatches(year: Int, month: Int, day: Int) -> Bool {
        let domMatch = daysOfMonth & (1 << UInt64(day)) != 0
        let weekday = Self.floorMod(Self.daysFromCivil(year: year, month: month, day: day) + 4, 7)  // 1970-01-01 was a Thursday
        let dowMatch = daysOfWeek & (1 << UInt64(weekday)) != 0
        if domUnrestricted || dowUnrestricted { return domMatch && dowMatch }
        return domMatch || dowMatch
    }

    private static func nextBit(_ mask: UInt64, from value: Int) -> Int? {
        guard value >= 0 else { return nextBit(mask, from: 0) }
        guard value < 64 else { return nil }
        let rest = mask >> UInt64(value)
        return rest == 0 ? nil : value + rest.trailingZeroBitCount
    }

    private static func previousBit(_ mask: UInt64, upTo value: Int) -> Int? {
        guard value >= 0 else { return nil }
        let rest = value >= 63 ? mask : mask & ((1 << UInt64(value + 1)) - 1)
        return rest == 0 ? nil : 63 - rest.leadingZeroBitCount
    }

    // MARK: - Wall time <-> instant

    /// Far enough that a Feb 29 schedule always finds its next leap day (gaps of up to 8 years).
    private static let searchYears = 8
    /// Safety net only: the loops in next/previous end after about an hour of candidates.
    private static let maxCandidates = 100_000

    /// A local wall-clock minute, proleptic Gregorian.
    private struct Wall {
        var year: Int, month: Int, day: Int, hour: Int, minute: Int

        init(year: Int, month: Int, day: Int, hour: Int, minute: Int) {
            (self.year, self.month, self.day, self.hour, self.minute) = (year, month, day, hour, minute)
        }

        /// From "naive" seconds: the wall time read as if it were UTC.
        init(naive: Int64) {
            let days = Int(CronExpression.floorDiv(naive, 86_400))
            let secondOfDay = Int(naive - Int64(days) * 86_400)
            (year, month, day) = CronExpression.civilFromDays(days)
            hour = secondOfDay / 3600
            minute = secondOfDay % 3600 / 60
        }

        var naive: Int64 {
            Int64(CronExpression.daysFromCivil(year: year, month: month, day: day)) * 86_400
                + Int64(hour * 3600 + minute * 60)
        }
    }

    /// Seconds since 1970, or nil for non-finite or absurdly distant dates (avoids integer traps).
    private static func seconds(of date: Date) -> Double? {
        let s = date.timeIntervalSince1970
        guard s.isFinite, abs(s) < 1e12 else { return nil }
        return s
    }

    private static func floorMinute(_ seconds: Double) -> Int64 {
        Int64((seconds / 60).rounded(.down)) * 60
    }

    private static func offset(_ tz: TimeZone, _ seconds: Int64) -> Int64 {
        Int64(tz.secondsFromGMT(for: Date(timeIntervalSince1970: Double(seconds))))
    }

    /// Smallest and largest UTC offset in effect within a day or so of `now`: the only offsets
    /// that can relate wall times near `now` to instants near `now`.
    private static func offsetBounds(near now: Double, in tz: TimeZone) -> (Int64, Int64) {
        let t = Int64(now.rounded(.down))
        let samples = [offset(tz, t - 108_000), offset(tz, t), offset(tz, t + 108_000)]
        return (samples.min() ?? 0, samples.max() ?? 0)
    }

    /// The instant (seconds since 1970) a wall time fires at; see the type's DST rules.
    private static func instant(ofWall naive: Int64, in tz: TimeZone) -> Int64 {
        // Every offset is within ±16 h, so the instant lies in naive ± 16 h; a transition in that
        // window shows up as different offsets at its ends.
        let span: Int64 = 16 * 3600
        var candidates = [offset(tz, naive - span), offset(tz, naive + span)]
        for o in candidates {
            let other = offset(tz, naive - o)
            if !candidates.contains(other) { candidates.append(other) }
        }
        // An offset is valid if the instant it yields really uses it. Two valid ones = ambiguous
        // wall time: take the earlier instant (first occurrence).
        let valid = candidates.filter { offset(tz, naive - $0) == $0 }.map { naive - $0 }
        if let first = valid.min() { return first }

        // Gap: the wall time lies in [T + before, T + after) for a transition T; fire at T.
        var low = naive - (candidates.max() ?? 0)   // before T
        var high = naive - (candidates.min() ?? 0)  // at or after T
        let before = offset(tz, low)
        guard offset(tz, high) != before else { return high }  // inconsistent zone data; stay total
        while high - low > 1 {
            let mid = low + (high - low) / 2
            if offset(tz, mid) == before { low = mid } else { high = mid }
        }
        return high
    }

    // MARK: - Calendar arithmetic (proleptic Gregorian: CivilDate)

    private static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
        let q = a / b
        return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
    }

    private static func floorMod(_ a: Int, _ b: Int) -> Int {
        let r = a % b
        return r < 0 ? r + b : r
    }

    private static func daysInMonth(year: Int, month: Int) -> Int { CivilDate.daysInMonth(year: year, month: month) }

    private static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        CivilDate(year: year, month: month, day: day).daysSince1970
    }

    private static func civilFromDays(_ days: Int) -> (Int, Int, Int) {
        let date = CivilDate(daysSince1970: days)
        return (date.year, date.month, date.day)
    }

    // MARK: - Parsing

    private static let presets: [String: String] = [
        "@hourly": "0 * * * *",
        "@daily": "0 0 * * *",
        "@midnight": "0 0 * * *",
        "@weekly": "0 0 * * 0",
        "@monthly": "0 0 1 * *",
        "@yearly": "0 0 1 1 *",
        "@annually": "0 0 1 1 *",
    ]

    private struct FieldSpec {
        let name: String
        let min: Int
        let max: Int
        let names: [String]  // names[i] means value min + i

        static let minute = FieldSpec(name: "minute", min: 0, max: 59, names: [])
        static let hour = FieldSpec(name: "hour", min: 0, max: 23, names: [])
        static let dayOfMonth = FieldSpec(name: "day-of-month", min: 1, max: 31, names: [])
        static let month = FieldSpec(name: "month", min: 1, max: 12, names:
            ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"])
        // 0-7 so that 7 (Sunday) is accepted; folded into 0 after parsing.
        static let dayOfWeek = FieldSpec(name: "day-of-week", min: 0, max: 7, names:
            ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"])
    }

    private static func parseField(_ field: String, spec: FieldSpec) throws(CronError) -> UInt64 {
        var mask: UInt64 = 0
        for item in field.split(separator: ",", omittingEmptySubsequences: false) {
            guard !item.isEmpty else {
                throw CronError(message: "\(spec.name) field '\(field)' has an empty list element")
            }
            let parts = item.split(separator: "/", omittingEmptySubsequences: false)
            guard parts.count <= 2 else {
                throw CronError(message: "\(spec.name) field '\(item)' has more than one '/'")
            }
            var step = 1
            if parts.count == 2 {
                let width = spec.max - spec.min + 1
                guard isDigits(parts[1]), let s = Int(parts[1]) else {
                    throw CronError(message: "\(spec.name) field '\(item)': step '\(parts[1])' is not a number")
                }
                guard s >= 1, s <= width else {
                    throw CronError(message: "\(spec.name) field '\(item)': step must be between 1 and \(width)")
                }
                step = s
            }
            let base = parts[0]
            let low: Int, high: Int
            if base == "*" {
                (low, high) = (spec.min, spec.max)
            } else if let dash = base.firstIndex(of: "-") {
                low = try parseValue(base[..<dash], in: item, spec: spec)
                high = try parseValue(base[base.index(after: dash)...], in: item, spec: spec)
                guard low <= high else {
                    throw CronError(message:
                        "\(spec.name) field '\(item)': range start \(low) is greater than end \(high)")
                }
            } else {
                low = try parseValue(base, in: item, spec: spec)
                high = parts.count == 2 ? spec.max : low  // "a/n" means a-max/n
            }
            for value in stride(from: low, through: high, by: step) {
                mask |= 1 << UInt64(value)
            }
        }
        return mask
    }

    private static func isDigits(_ text: Substring) -> Bool {
        !text.isEmpty && text.allSatisfy { $0.isASCII && $0.isNumber }
    }

    /// One number or name; `item` is the list element it came from, for error messages.
    private static func parseValue(_ token: Substring, in item: Substring, spec: FieldSpec) throws(CronError) -> Int {
        if let index = spec.names.firstIndex(of: token.uppercased()) {
            return spec.min + index
        }
        guard !token.isEmpty else {
            throw CronError(message: "\(spec.name) field '\(item)' is missing a value")
        }
        guard isDigits(token) else {
            let what = spec.names.isEmpty ? "a number" : "a number or \(spec.name) name"
            throw CronError(message: "\(spec.name) field '\(token)' is not \(what)")
        }
        guard let value = Int(token), value >= spec.min, value <= spec.max else {
            throw CronError(message: "\(spec.name) field '\(token)' is out of range \(spec.min)-\(spec.max)")
        }
        return value
    }
}

public struct CronError: Error, Sendable, Equatable, CustomStringConvertible {
    public let message: String   // e.g. "minute field '61' is out of range 0-59", "expected 5 fields, got 4", "unknown preset '@fortnightly'"
    public var description: String { message }
}
