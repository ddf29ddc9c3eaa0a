import Foundation

/// A strptime-like pattern for dates and timestamps in dirty data: `%Y-%m-%d`, `%d/%m/%Y %H:%M`,
/// `%Y-%m-%dT%H:%M:%S%z`. Fields: %Y %m %d %H %M %S (with optional .fraction), %z (Z, ±HH:MM, ±HHMM), %%.
/// Parsing works on bytes and never touches a formatter, because it runs once per row.
public struct DatePattern: Sendable, Equatable {
    enum Piece: Sendable, Equatable {
        case year, month, day, hour, minute, second, zone
        case literal(UInt8)
    }

    let pieces: [Piece]
    public let text: String

    public init(_ text: String) throws(TransformError) {
        self.text = text
        var pieces: [Piece] = []
        var bytes = Array(text.utf8)[...]
        while let byte = bytes.popFirst() {
            guard byte == 0x25 else { pieces.append(.literal(byte)); continue }
            guard let code = bytes.popFirst() else { throw TransformError("format '\(text)' ends with %") }
            switch code {
            case UInt8(ascii: "Y"): pieces.append(.year)
            case UInt8(ascii: "m"): pieces.append(.month)
            case UInt8(ascii: "d"): pieces.append(.day)
            case UInt8(ascii: "H"): pieces.append(.hour)
            case UInt8(ascii: "M"): pieces.append(.minute)
            case UInt8(ascii: "S"): pieces.append(.second)
            case UInt8(ascii: "z"): pieces.append(.zone)
            case UInt8(ascii: "%"): pieces.append(.literal(0x25))
            default: throw TransformError("format '\(text)': %\(Character(UnicodeScalar(code))) is not supported (use %Y %m %d %H %M %S %z)")
            }
        }
        self.pieces = pieces
    }

    static let isoDate = try! DatePattern("%Y-%m-%d")  // literal patterns, checked by the tests
    static let isoTimestamp = try! DatePattern("%Y-%m-%dT%H:%M:%S")
    static let isoTimestampWithZone = try! DatePattern("%Y-%m-%dT%H:%M:%S%z")

    /// The fields found, or nil if `value` does not match exactly.
    public func match(_ value: String) -> DateFields? {
        if let fields = value.utf8.withContiguousStorageIfAvailable({ match(bytes: $0[...]) }) { return fields }
        return match(bytes: Array(value.utf8)[...])
    }

    func match<Bytes: Collection>(bytes input: Bytes) -> DateFields? where Bytes.Element == UInt8, Bytes.SubSequence == Bytes {
        var fields = DateFields()
        var bytes = input
        func number(maxDigits: Int) -> Int? {
            var result = 0
            var digits = 0
            while digits < maxDigits, let byte = bytes.first, byte >= 48, byte <= 57 {
                result = result * 10 + Int(byte - 48)
                bytes.removeFirst()
                digits += 1
            }
            return digits > 0 ? result : nil
        }
        for piece in pieces {
            switch piece {
            case .year:
                guard let year = number(maxDigits: 4), year >= 1000 else { return nil }
                fields.year = year
            case .month: guard let month = number(maxDigits: 2) else { return nil }; fields.month = month
            case .day: guard let day = number(maxDigits: 2) else { return nil }; fields.day = day
            case .hour: guard let hour = number(maxDigits: 2) else { return nil }; fields.hour = hour
            case .minute: guard let minute = number(maxDigits: 2) else { return nil }; fields.minute = minute
            case .second:
                guard let second = number(maxDigits: 2) else { return nil }
                fields.second = second
                if bytes.first == 0x2E {  // .fraction, dropped
                    bytes.removeFirst()
                    guard number(maxDigits: 9) != nil else { return nil }
                }
            case .zone:
                guard let sign = bytes.popFirst() else { return nil }
                if sign == UInt8(ascii: "Z") || sign == UInt8(ascii: "z") { fields.offset = 0; continue }
                guard sign == 0x2B || sign == 0x2D, let hours = number(maxDigits: 2) else { return nil }
                if bytes.first == 0x3A { bytes.removeFirst() }
                let minutes = number(maxDigits: 2) ?? 0
                fields.offset = (hours * 3600 + minutes * 60) * (sign == 0x2D ? -1 : 1)
            case .literal(let expected):
                guard bytes.popFirst() == expected else { return nil }
            }
        }
        guard bytes.isEmpty, fields.isValid else { return nil }
        return fields
    }
}

public struct DateFields: Sendable, Equatable {
    var year = 1970, month = 1, day = 1, hour = 0, minute = 0, second = 0
    /// Seconds east of UTC when the text carried an offset.
    var offset: Int?

    init() {}

    init(year: Int, month: Int, day: Int) {
        self.year = year
        self.month = month
        self.day = day
    }

    var isValid: Bool {
        guard (1...12).contains(month), day >= 1, day <= Self.daysIn(month: month, year: year),
              hour < 24, minute < 60, second < 61 else { return false }
        return true
    }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
    static func daysFromCivil(_ year: Int, _ month: Int, _ day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// `2024-01-31`
    var isoDate: String { "\(Self.pad(year, 4))-\(Self.pad(month, 2))-\(Self.pad(day, 2))" }

    /// Seconds since the epoch, reading the fields as wall time in `zone` unless they carried an offset.
    /// A wall time that occurs twice (the hour a clock goes back) is its first occurrence; one that never
    /// occurs (the hour a clock skips) takes the offset from before the change: Python's `fold=0`.
    func epochSeconds(zone: TimeZone) -> Int {
        let local = Self.daysFromCivil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second
        if let offset { return local - offset }
        // The offsets a day before and a day after bound the ones that can apply (zones change at most once a day).
        let before = zone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(local - 86_400)))
        let after = zone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(local + 86_400)))
        var earliest: Int?
        for candidate in [before, after] {
            let instant = local - candidate
            if zone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(instant))) == candidate {
                earliest = min(earliest ?? instant, instant)
            }
        }
        return earliest ?? local - before
    }

    /// The calendar date these fields name in `zone`: the date as written when they carry no offset (it is
    /// already a wall date there), else the date of that instant in `zone`.
    func calendarDate(in zone: TimeZone) -> (year: Int, month: Int, day: Int) {
        guard let offset else { return (year, month, day) }
        let instant = Self.daysFromCivil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second - offset
        let local = instant + zone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(instant)))
        let (year, month, day) = Self.civilFromDays(local >= 0 ? local / 86_400 : (local - 86_399) / 86_400)
        return (year, month, day)
    }

    static func isoDate(year: Int, month: Int, day: Int) -> String { "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))" }

    /// `2024-01-31T06:00:00Z`
    static func isoUTC(epochSeconds: Int) -> String {
        let days = epochSeconds >= 0 ? epochSeconds / 86_400 : (epochSeconds - 86_399) / 86_400
        let secondsOfDay = epochSeconds - days * 86_400
        let (year, month, day) = civilFromDays(days)
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T\(pad(secondsOfDay / 3600, 2)):\(pad(secondsOfDay / 60 % 60, 2)):\(pad(secondsOfDay % 60, 2))Z"
    }

    static func civilFromDays(_ days: Int) -> (Int, Int, Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    static func pad(_ value: Int, _ width: Int) -> String {
        let text = String(value)
        return text.count >= width ? text : String(repeating: "0", count: width - text.count) + text
    }
}
