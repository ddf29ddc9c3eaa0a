import Foundation

/// The usual case of `ColumnCleaner.clean` done on a field's bytes, without building a String: ASCII values
/// that need no trimming and pass every rule. Anything else (non-ASCII bytes, spaces at an end, numbers in an
/// unusual form, a broken rule, a `pattern`) is left to `ColumnCleaner`, which then gives the exact value or
/// reason; so this only has to agree with it where it answers.
final class ByteColumnCleaner {
    private enum Kind {
        case string, int, decimal, bool, date, timestamp, uuid
        /// Always the general path (regular expressions work on Strings).
        case general
    }

    private enum CaseMapping { case none, lower, upper }

    private let kind: Kind
    private let caseMapping: CaseMapping
    private let required: Bool
    private let trim: Bool
    private let minimum: Double?
    private let maximum: Double?
    private let scale: Int?
    private let acceptedValues: ByteKeyMap?
    private let knownIntegerReferences: IntegerSet?
    private let knownReferences: KnownKeys?
    private let formats: [DatePattern]
    /// Naive timestamps in a zone without offset changes need no time zone lookup.
    private let zoneIsUTC: Bool
    private let timeZone: TimeZone

    init(_ cleaner: ColumnCleaner) {
        let rule = cleaner.rule
        var kind: Kind
        switch rule.type {
        case .string: kind = .string
        case .int: kind = .int
        case .decimal: kind = .decimal
        case .bool: kind = .bool
        case .date: kind = .date
        case .timestamp: kind = .timestamp
        case .uuid: kind = .uuid
        }
        switch (rule.lowercase, rule.uppercase) {
        case (false, false): caseMapping = .none
        case (true, false): caseMapping = .lower
        case (false, true): caseMapping = .upper
        case (true, true): caseMapping = .none
        }
        // Case mapping matters before parsing only for strings (booleans and UUIDs ignore case anyway): other mixes,
        // and patterns, stay on the general path.
        let caseMappingIsSimple = !(rule.lowercase && rule.uppercase) && (caseMapping == .none || rule.type == .string || rule.type == .bool || rule.type == .uuid)
        required = rule.required
        trim = rule.trim
        minimum = rule.minimum
        maximum = rule.maximum
        scale = rule.scale
        acceptedValues = rule.acceptedValues.map { values in
            let map = ByteKeyMap()
            for value in values { map.insert(value) }
            return map
        }
        knownIntegerReferences = cleaner.knownReferences?.integers
        knownReferences = cleaner.knownReferences
        formats = rule.formats
        timeZone = rule.timeZone
        zoneIsUTC = Self.utcIdentifiers.contains(rule.timeZone.identifier)
        // A non-ASCII literal in a format could let a value through that the general path checks as UTF-8 first.
        let formatsAreASCII = rule.formats.allSatisfy { $0.text.utf8.allSatisfy { $0 < 0x80 } }
        if cleaner.regex != nil || rule.pattern != nil || !caseMappingIsSimple || !formatsAreASCII { kind = .general }
        self.kind = kind
    }

    static let utcIdentifiers: Set<String> = ["GMT", "UTC", "Etc/UTC", "Etc/GMT"]

    /// Appends the cleaned value of `raw` to `output` and returns true; or returns false, leaving `output` with
    /// bytes to drop, when `ColumnCleaner.clean` must decide.
    func clean(_ raw: UnsafeBufferPointer<UInt8>, into output: ByteBuffer) -> Bool {
        guard let first = raw.first, let last = raw.last else { return !required }
        if trim && (Self.isTrimmedSpace(first) || Self.isTrimmedSpace(last)) { return false }
        let valueStart = output.count
        var number: Double?
        var integer: Int?
        switch kind {
        case .general:
            return false
        case .string:
            switch caseMapping {
            case .none:
                for byte in raw where byte >= 0x80 || byte == 0 { return false }
                output.append(raw)
            case .lower:
                for byte in raw {
                    guard byte < 0x80, byte != 0 else { return false }
                    output.append(byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte)
                }
            case .upper:
                for byte in raw {
                    guard byte < 0x80, byte != 0 else { return false }
                    output.append(byte >= 0x61 && byte <= 0x7A ? byte & ~0x20 : byte)
                }
            }
        case .int:
            guard let value = Self.parseInteger(raw) else { return false }
            // Already written as ColumnCleaner writes it (`12`, `-3`, `0`): copy the bytes.
            if Self.isCanonicalInteger(raw) { output.append(raw) } else { Self.appendDecimal(value, to: output) }
            number = Double(value)
            integer = value
        case .decimal:
            guard let value = Self.plainDecimal(raw, maxDecimals: scale) else { return false }
            output.append(raw)
            number = value
        case .bool:
            guard let value = Self.parseBool(raw) else { return false }
            output.append(value ? Self.trueBytes : Self.falseBytes)
        case .uuid:
            // The plain 36-character form; braces and `urn:uuid:` go to ColumnCleaner.
            guard raw.count == UUIDParser.length else { return false }
            var valid = true
            output.appendDirectly(maxCount: UUIDParser.length) { target in
                valid = UUIDParser.canonical(raw, from: 0) { target[$0] = $1 }
                return valid ? UUIDParser.length : 0
            }
            guard valid else { return false }
        case .date, .timestamp:
            var found = ISODateParser.parse(raw)
            if found == nil {
                for format in formats {
                    if let fields = format.match(bytes: raw[...]) { found = fields; break }
                }
            }
            guard let fields = found else { return false }
            if kind == .date {
                if fields.offset == nil || (fields.offset == 0 && zoneIsUTC && fields.second < 60) {
                    Self.appendISODate(year: fields.year, month: fields.month, day: fields.day, to: output)
                } else if zoneIsUTC, let offset = fields.offset {
                    let seconds = DateFields.daysFromCivil(fields.year, fields.month, fields.day) * 86_400
                        + fields.hour * 3600 + fields.minute * 60 + fields.second - offset
                    let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
                    let (year, month, day) = DateFields.civilFromDays(days)
                    guard year >= 1 else { return false }
                    Self.appendISODate(year: year, month: month, day: day, to: output)
                } else {
                    return false  // the date of an instant in another zone: one lookup, left to ColumnCleaner
                }
            } else if (fields.offset == 0 || (fields.offset == nil && zoneIsUTC)) && fields.second < 60 {
                // Already UTC, and valid fields: the epoch round trip would give them back unchanged.
                Self.appendISODate(year: fields.year, month: fields.month, day: fields.day, to: output)
                Self.appendTime(hour: fields.hour, minute: fields.minute, second: fields.second, to: output)
            } else {
                let seconds: Int
                if let offset = fields.offset {
                    seconds = DateFields.daysFromCivil(fields.year, fields.month, fields.day) * 86_400
                        + fields.hour * 3600 + fields.minute * 60 + fields.second - offset
                } else if zoneIsUTC {
                    seconds = DateFields.daysFromCivil(fields.year, fields.month, fields.day) * 86_400
                        + fields.hour * 3600 + fields.minute * 60 + fields.second
                } else {
                    seconds = fields.epochSeconds(zone: timeZone)
                }
                guard seconds >= -62_135_596_800 else { return false }  // before year 1: the general path pads it
                Self.appendISOTimestamp(epochSeconds: seconds, to: output)
            }
        }
        if let minimum, let number, number < minimum { return false }
        if let maximum, let number, number > maximum { return false }
        if let acceptedValues, !acceptedValues.contains(output.bytes(valueStart..<output.count)) { return false }
        if let knownIntegerReferences {
            guard let integer, knownIntegerReferences.contains(integer) else { return false }
        } else if let knownReferences {
            if knownReferences.isInteger || !knownReferences.contains(output.bytes(valueStart..<output.count)) { return false }
        }
        return true
    }

    /// The bytes `ColumnCleaner.trimmed` may remove from an ASCII value.
    @inline(__always)
    static func isTrimmedSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D || byte >= 0x80 }

    /// `12`, `-3`, `+007`: an optional sign and up to 18 digits (so no overflow); anything else is nil.
    static func parseInteger(_ bytes: UnsafeBufferPointer<UInt8>) -> Int? {
        var index = 0
        var negative = false
        if let sign = bytes.first, sign == 0x2B || sign == 0x2D {
            negative = sign == 0x2D
            index = 1
        }
        let digits = bytes.count - index
        guard digits > 0, digits <= 18 else { return nil }
        var value = 0
        while index < bytes.count {
            let digit = bytes[index] &- 0x30
            guard digit < 10 else { return nil }
            value = value * 10 + Int(digit)
            index += 1
        }
        return negative ? -value : value
    }

    /// `12`, `-3`, `0`: no plus sign, no leading zero, no `-0` (digits already checked by `parseInteger`).
    static func isCanonicalInteger(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let first = bytes.first else { return false }
        if first == 0x2B { return false }
        if first == 0x2D { return bytes.count > 1 && bytes[1] != 0x30 }
        return first != 0x30 || bytes.count == 1
    }

    /// The value of a decimal that `ColumnCleaner` keeps as written (`ColumnCleaner.isPlainDecimal`), when it
    /// has at most 15 digits: then digits ÷ 10^decimals is one correctly rounded division, the same Double as
    /// `Double(text)`. Nil otherwise.
    static func plainDecimal(_ bytes: UnsafeBufferPointer<UInt8>, maxDecimals: Int?) -> Double? {
        var decimals = -1
        var digitsBefore = 0
        var mantissa = 0
        var digitCount = 0
        var negative = false
        for index in 0..<bytes.count {
            let byte = bytes[index]
            if byte == 0x2D && index == 0 { negative = true; continue }
            if byte == 0x2E {
                guard decimals < 0, digitsBefore > 0 else { return nil }
                decimals = 0
                continue
            }
            let digit = byte &- 0x30
            guard digit < 10 else { return nil }
            if decimals >= 0 { decimals += 1 } else { digitsBefore += 1 }
            mantissa = mantissa &* 10 &+ Int(digit)
            digitCount += 1
        }
        if decimals == 0 { return nil }  // "12." is normalised
        if let maxDecimals, decimals > maxDecimals { return nil }
        guard digitsBefore > 0, !(digitsBefore > 1 && bytes.first == 0x30), digitCount <= 15 else { return nil }
        var value = Double(mantissa)
        if decimals > 0 { value /= powersOfTen[decimals] }
        return negative ? -value : value
    }

    private static let powersOfTen: [Double] = (0...15).map { (0..<$0).reduce(1.0) { value, _ in value * 10 } }

    static func parseBool(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool? {
        guard bytes.count <= 5 else { return nil }
        let word = packedLowercase(bytes)
        if truthyWords.contains(word) { return true }
        if falsyWords.contains(word) { return false }
        return nil
    }

    /// Up to 7 ASCII-lowercased bytes and their count in one integer, to compare short words without a String.
    private static func packedLowercase(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt64 {
        var word: UInt64 = 0
        for byte in bytes { word = word << 8 | UInt64(byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte) }
        return word << 3 | UInt64(bytes.count)
    }

    private static func packedWords(_ words: [String]) -> [UInt64] {
        words.map { word in Array(word.utf8).withUnsafeBufferPointer(packedLowercase) }
    }

    private static let truthyWords = packedWords(["true", "t", "yes", "y", "1"])
    private static let falsyWords = packedWords(["false", "f", "no", "n", "0"])

    static let trueBytes = Array("true".utf8)
    static let falseBytes = Array("false".utf8)

    static func appendDecimal(_ value: Int, to output: ByteBuffer) {
        if value < 0 {
            output.append(0x2D)
            appendDigits(value.magnitude, width: 1, to: output)
        } else {
            appendDigits(UInt(value), width: 1, to: output)
        }
    }

    /// Digits of `value`, zero-padded to `width` (like `DateFields.pad`).
    @inline(__always)
    static func appendDigits(_ value: UInt, width: Int, to output: ByteBuffer) {
        var count = 1
        var power: UInt = 10
        while count < 20 && value >= power { count += 1; power = power &* 10 }
        for _ in count..<max(width, count) { output.append(0x30) }
        var divisor: UInt = 1
        for _ in 1..<count { divisor *= 10 }
        var rest = value
        while divisor > 0 {
            output.append(UInt8(truncatingIfNeeded: rest / divisor) + 0x30)
            rest %= divisor
            divisor /= 10
        }
    }

    /// `2024-01-31`, as `DateFields.isoDate`.
    static func appendISODate(year: Int, month: Int, day: Int, to output: ByteBuffer) {
        guard year >= 1000 && year <= 9999 else { return appendPaddedISODate(year: year, month: month, day: day, to: output) }
        output.appendDirectly(maxCount: 10) { target in
            target[0] = UInt8(truncatingIfNeeded: year / 1000) + 0x30
            target[1] = UInt8(truncatingIfNeeded: year / 100 % 10) + 0x30
            target[2] = UInt8(truncatingIfNeeded: year / 10 % 10) + 0x30
            target[3] = UInt8(truncatingIfNeeded: year % 10) + 0x30
            target[4] = 0x2D
            target[5] = UInt8(truncatingIfNeeded: month / 10) + 0x30
            target[6] = UInt8(truncatingIfNeeded: month % 10) + 0x30
            target[7] = 0x2D
            target[8] = UInt8(truncatingIfNeeded: day / 10) + 0x30
            target[9] = UInt8(truncatingIfNeeded: day % 10) + 0x30
            return 10
        }
    }

    private static func appendPaddedISODate(year: Int, month: Int, day: Int, to output: ByteBuffer) {
        appendDigits(UInt(year), width: 4, to: output)
        output.append(0x2D)
        appendDigits(UInt(month), width: 2, to: output)
        output.append(0x2D)
        appendDigits(UInt(day), width: 2, to: output)
    }

    /// `2024-01-31T06:00:00Z`, as `DateFields.isoUTC` (for instants from year 1 on).
    static func appendISOTimestamp(epochSeconds: Int, to output: ByteBuffer) {
        let days = epochSeconds >= 0 ? epochSeconds / 86_400 : (epochSeconds - 86_399) / 86_400
        let secondsOfDay = epochSeconds - days * 86_400
        let (year, month, day) = DateFields.civilFromDays(days)
        appendISODate(year: year, month: month, day: day, to: output)
        appendTime(hour: secondsOfDay / 3600, minute: secondsOfDay / 60 % 60, second: secondsOfDay % 60, to: output)
    }

    /// `T06:00:00Z` (each field below 100).
    static func appendTime(hour: Int, minute: Int, second: Int, to output: ByteBuffer) {
        output.appendDirectly(maxCount: 10) { target in
            target[0] = 0x54  // T
            target[1] = UInt8(truncatingIfNeeded: hour / 10) + 0x30
            target[2] = UInt8(truncatingIfNeeded: hour % 10) + 0x30
            target[3] = 0x3A
            target[4] = UInt8(truncatingIfNeeded: minute / 10) + 0x30
            target[5] = UInt8(truncatingIfNeeded: minute % 10) + 0x30
            target[6] = 0x3A
            target[7] = UInt8(truncatingIfNeeded: second / 10) + 0x30
            target[8] = UInt8(truncatingIfNeeded: second % 10) + 0x30
            target[9] = 0x5A  // Z
            return 10
        }
    }
}
