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
/// ## Day matching (croniter's rule, as in Airflow)
/// If both day-of-month and day-of-week are restricted, a day matches when EITHER matches; otherwise both must
/// match. A field is unrestricted when one of its list items is `*`, or when it covers every value and the other
/// field contains a `*`. So `0 0 */2 * 1` means "odd days or Mondays" (Vixie cron would AND them), and
/// `0 0 */1 * 1` is every day.
///
/// ## Time zones and daylight saving time (Airflow 3's `CronMixin`)
/// Fields are matched against the local wall-clock time (proleptic Gregorian calendar) in the time zone passed to
/// `next`/`previous`.
/// - A cron whose hour field is every hour (croniter's `_covers_every_hour`: `*`, `*/1`, `0-23`) fires at every
///   instant whose wall time matches: both occurrences of a repeated time (`0 * * * *` runs 01:00 EDT and 01:00 EST
///   on 2024-11-03 in New York), and nothing for a time in a gap (`25 * * * 0` in Paris on 2024-03-31: 01:25 CET,
///   then 03:25 CEST).
/// - Any other cron fires a repeated time at its SECOND occurrence (`make_aware` sets `fold=1`), and a time in a
///   gap shifted forward by the gap's length (02:30 → 03:30 EDT on 2024-03-10). Only the first match in a gap fires:
///   croniter resumes from the shifted wall time, so later matches up to it do not (`*/15 2 * * *` fires once, at
///   03:00 EDT; `45 0-3 * * *` in Paris fires 00:45, 01:45, 03:45 on 2024-03-31).
///
/// The fire times are a set of instants, so `next` and `previous` are mutually consistent: for a fire time `F`,
/// `previous(before: next(after: F)!) == F` and `next(after: previous(before: F)!) == F`. Where Airflow's
/// arithmetic oscillates (hour-`*` crons at offset changes that are not whole hours: Australia/Lord_Howe, Kathmandu
/// in 1986) this set rule is kept instead.
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
    /// Day-of-month and day-of-week follow croniter's OR rule (see the type's documentation).
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
        // croniter's rule (Airflow): a day field is unrestricted when one of its list items is `*`, or when it
        // covers every value and the other field's text contains a `*`. `*/2` is restricted, so it ORs.
        func isStar(_ field: String, covers full: Bool, other: String) -> Bool {
            field.split(separator: ",").contains("*") || (full && other.contains("*"))
        }
        domUnrestricted = isStar(fields[2], covers: daysOfMonth == Self.allDaysOfMonth, other: fields[4])
        dowUnrestricted = isStar(fields[4], covers: dow == Self.allDaysOfWeek, other: fields[2])
        self.text = trimmed
    }

    /// The original text, trimmed.
    public var description: String { text }

    /// The first fire time strictly after `date`, evaluating the fields on wall-clock time in `timeZone`.
    public func next(after date: Date, in timeZone: TimeZone) -> Date? {
        guard let now = Self.seconds(of: date) else { return nil }
        let (minOffset, maxOffset) = Self.offsetBounds(near: now, in: timeZone)
        // Any wall time before `now + minOffset` maps to an instant <= now, so start there.
        var wall = Wall(naive: Self.floorMinute(now + Double(minOffset)))
        let limitYear = wall.year + Self.searchYears
        var best: Int64?
        // Bounded: once wall time passes `best + maxOffset` no later wall can fire earlier.
        for _ in 0..<Self.maxCandidates {
            guard let match = nextMatch(from: wall, limitYear: limitYear) else { break }
            if let best, match.naive - maxOffset > best { break }
            for instant in fireInstants(ofWall: match, in: timeZone) where Double(instant) > now {
                best = Swift.min(best ?? instant, instant)
            }
            if best != nil && minOffset == maxOffset { break }
            wall = match
            wall.minute += 1  // nextMatch normalises overflow
        }
        return best.map { Date(timeIntervalSince1970: Double($0)) }
    }

    /// The last fire time strictly before `date`.
    public func previous(before date: Date, in timeZone: TimeZone) -> Date? {
        guard let now = Self.seconds(of: date) else { return nil }
        let (minOffset, maxOffset) = Self.offsetBounds(near: now, in: timeZone)
        // Any wall time after `now + maxOffset` maps to an instant > now, so start there.
        var wall = Wall(naive: Self.floorMinute(now + Double(maxOffset)))
        let limitYear = wall.year - Self.searchYears
        var best: Int64?
        for _ in 0..<Self.maxCandidates {
            guard let match = previousMatch(from: wall, limitYear: limitYear) else { break }
            if let best, match.naive - minOffset < best { break }
            for instant in fireInstants(ofWall: match, in: timeZone) where Double(instant) < now {
                best = Swift.max(best ?? instant, instant)
            }
            if best != nil && minOffset == maxOffset { break }
            wall = match
            wall.minute -= 1  // previousMatch normalises underflow
        }
        return best.map { Date(timeIntervalSince1970: Double($0)) }
    }

    // MARK: - Airflow's DST rules

    /// croniter's `_covers_every_hour`: the hour field, once expanded, is every hour (`*`, `*/1`, `0-23`...).
    var coversEveryHour: Bool { hours == (1 << 24) - 1 }

    /// The instants a matching wall time fires at (none, one or two), following Airflow 3's `CronMixin`:
    /// - hour-`*` crons (`_covers_every_hour`) add the wall-clock distance to the current instant, which with whole-hour
    ///   DST shifts means: every instant whose wall time matches fires — both occurrences of a repeated time, none in
    ///   a gap. We keep that rule for 30-minute shifts (Lord_Howe), where Airflow's arithmetic oscillates;
    /// - other crons go through `make_aware` (`fold=1`): a repeated time fires at its second occurrence, a time in a
    ///   gap is shifted forward by the gap's length. croniter then continues from that shifted wall time, so later
    ///   matches up to it (the rest of the gap, and for a 30-minute gap some real times after it) do not fire.
    private func fireInstants(ofWall wall: Wall, in zone: TimeZone) -> [Int64] {
        let naive = wall.naive
        let resolution = WallTimeResolution(wall: naive, in: zone)
        if coversEveryHour {
            switch resolution {
            case .single(let instant): return [instant]
            case .repeated(let first, let second): return [first, second]
            case .skipped: return []
            }
        }
        if case .skipped(let transition, let before, _) = resolution {
            // Only the first match in a gap fires; croniter resumes past the gap after it.
            let gapStart = transition + before
            var earlier = wall
            earlier.minute -= 1
            if let previous = previousMatch(from: earlier, limitYear: wall.year - 1), previous.naive >= gapStart { return [] }
            return [naive - before]
        }
        let instant = resolution.airflowInstant(ofWall: naive)
        return shadowedByGap(instant: instant, in: zone, year: wall.year) ? [] : [instant]
    }

    /// Whether the first match of a recent gap, shifted forward, lands after `instant`: croniter then resumes
    /// from a wall time past this one, so Airflow never fires it.
    private func shadowedByGap(instant: Int64, in zone: TimeZone, year: Int) -> Bool {
        // A gap can only shadow wall times within its own length after it; 30 h covers a skipped day (Samoa 2011).
        var low = instant - 30 * 3600
        var high = instant
        let before = WallTimeResolution.offset(zone, low)
        guard before < WallTimeResolution.offset(zone, high) else { return false }
        while high - low > 1 {
            let mid = low + (high - low) / 2
            if WallTimeResolution.offset(zone, mid) == before { low = mid } else { high = mid }
        }
        let transition = high
        let after = WallTimeResolution.offset(zone, transition)
        guard instant - transition < after - before else { return false }
        let gapStart = transition + before, gapEnd = transition + after
        guard let first = nextMatch(from: Wall(naive: gapStart), limitYear: year + 1), first.naive < gapEnd else { return false }
        return first.naive - before > instant
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

    private static let allDaysOfMonth: UInt64 = ((1 << 32) - 1) & ~1  // bits 1-31
    private static let allDaysOfWeek: UInt64 = (1 << 7) - 1

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
