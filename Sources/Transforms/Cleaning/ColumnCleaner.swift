import Foundation

/// Applies one column's rules to a raw value: the cleaned text, or the rule it breaks and why.
struct ColumnCleaner {
    let rule: CleaningRules.ColumnRule
    let regex: NSRegularExpression?
    /// Keys of the referenced table, when the column has `references:` (integers for int columns).
    var knownReferences: KnownKeys?

    enum Outcome {
        case value(String)
        case rejected(rule: String, reason: String)
    }

    init(rule: CleaningRules.ColumnRule) {
        self.rule = rule
        self.regex = rule.pattern.flatMap { try? NSRegularExpression(pattern: $0) }
    }

    func clean(_ raw: String) -> Outcome {
        // U+FFFD is EF BF BD in UTF-8: look at scalars only when that lead byte is there.
        if raw.utf8.contains(0xEF), raw.unicodeScalars.contains("\u{FFFD}") {
            return .rejected(rule: "utf8", reason: "\(rule.name) is not valid UTF-8")
        }
        if raw.utf8.contains(0) {
            return .rejected(rule: "utf8", reason: "\(rule.name) contains a NUL byte")
        }
        var text = rule.trim ? Self.trimmed(raw) : raw
        if text.isEmpty {
            return rule.required ? .rejected(rule: "required", reason: "\(rule.name) is empty") : .value("")
        }
        if rule.lowercase { text = text.lowercased() }
        if rule.uppercase { text = text.uppercased() }
        var number: Double?
        var integer: Int?
        switch rule.type {
        case .string:
            break
        case .int:
            guard let value = Int(text.hasPrefix("+") ? String(text.dropFirst()) : text) else {
                return .rejected(rule: "type", reason: "\(rule.name) '\(text)' is not a whole number")
            }
            if !Self.isCanonicalInteger(text) { text = String(value) }
            number = Double(value)
            integer = value
        case .decimal:
            guard let value = Double(text), value.isFinite, text.utf8.allSatisfy({ ($0 >= 48 && $0 <= 57) || $0 == 46 || $0 == 45 || $0 == 43 || $0 == 101 || $0 == 69 }) else {
                return .rejected(rule: "type", reason: "\(rule.name) '\(text)' is not a number")
            }
            number = value
            if !Self.isPlainDecimal(text, maxDecimals: rule.scale) { text = Self.format(value, scale: rule.scale) }
        case .bool:
            switch text.lowercased() {
            case "true", "t", "yes", "y", "1": text = "true"
            case "false", "f", "no", "n", "0": text = "false"
            default: return .rejected(rule: "type", reason: "\(rule.name) '\(text)' is not true or false")
            }
        case .uuid:
            guard let canonical = UUIDParser.canonical(text) else {
                return .rejected(rule: "type", reason: "\(rule.name) '\(text)' is not a UUID")
            }
            text = canonical
        case .date, .timestamp:
            // The ISO 8601 forms first, then the column's own `formats:`.
            guard let fields = ISODateParser.parse(text) ?? rule.formats.lazy.compactMap({ $0.match(text) }).first else {
                let formats = rule.formats.isEmpty ? "" : " and matches none of the formats " + rule.formats.map(\.text).joined(separator: ", ")
                return .rejected(rule: "type", reason: "\(rule.name) '\(text)' is not an ISO 8601 \(rule.type.rawValue)\(formats)")
            }
            if rule.type == .date {
                let date = fields.calendarDate(in: rule.timeZone)
                text = DateFields.isoDate(year: date.year, month: date.month, day: date.day)
            } else {
                text = DateFields.isoUTC(epochSeconds: fields.epochSeconds(zone: rule.timeZone))
            }
        }
        if let minimum = rule.minimum {
            if let number, number < minimum { return .rejected(rule: "range", reason: "\(rule.name) \(text) is below \(Self.format(minimum, scale: nil))") }
        }
        if let maximum = rule.maximum {
            if let number, number > maximum { return .rejected(rule: "range", reason: "\(rule.name) \(text) is above \(Self.format(maximum, scale: nil))") }
        }
        if let accepted = rule.acceptedValues, !accepted.contains(text) {
            return .rejected(rule: "accepted_values", reason: "\(rule.name) '\(text)' is not one of the accepted values")
        }
        if let regex, regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) == nil {
            return .rejected(rule: "pattern", reason: "\(rule.name) '\(text)' does not match \(rule.pattern ?? "")")
        }
        if let reference = rule.references, let known = knownReferences,
           !(known.isInteger ? integer.map(known.contains(integer:)) ?? false : known.contains(text)) {
            return .rejected(rule: "foreign_key", reason: "\(rule.name) \(text) is not a \(reference.column) of \(reference.table)")
        }
        return .value(text)
    }

    /// `12`, `-3`, `0`: already how the value would be written (no sign, no leading zeros).
    static func isCanonicalInteger(_ text: String) -> Bool {
        var bytes = text.utf8.makeIterator()
        guard var first = bytes.next() else { return false }
        if first == 0x2D { guard let digit = bytes.next() else { return false }; first = digit }
        guard first >= 0x31 && first <= 0x39 || (first == 0x30 && text.utf8.count == 1) else { return false }
        while let byte = bytes.next() { guard byte >= 0x30 && byte <= 0x39 else { return false } }
        return true
    }

    /// `12.5`, `-0.25`, `3`: digits with at most one point and at most `maxDecimals` decimals, so the text
    /// can be kept as is (formatting a Double costs more than the rest of the row).
    static func isPlainDecimal(_ text: String, maxDecimals: Int?) -> Bool {
        var decimals = -1
        var digitsBefore = 0
        for (index, byte) in text.utf8.enumerated() {
            if byte == 0x2D && index == 0 { continue }
            if byte == 0x2E {
                guard decimals < 0, digitsBefore > 0 else { return false }
                decimals = 0
                continue
            }
            guard byte >= 0x30 && byte <= 0x39 else { return false }
            if decimals >= 0 { decimals += 1 } else { digitsBefore += 1 }
        }
        if decimals == 0 { return false }  // "12." is normalised
        if let maxDecimals, decimals > maxDecimals { return false }
        return digitsBefore > 0 && !(digitsBefore > 1 && text.utf8.first == 0x30)
    }

    /// Spaces, tabs and line breaks off both ends (ASCII fast path).
    static func trimmed(_ text: String) -> String {
        let utf8 = text.utf8
        guard let first = utf8.first, let last = utf8.last else { return text }
        // Any non-ASCII byte at an end may belong to a Unicode space (U+00A0 starts with 0xC2): take the slow path.
        func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D || byte >= 0x80 }
        if !isSpace(first) && !isSpace(last) { return text }
        return text.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Shortest decimal form, without exponent; rounded half away from zero to `scale` places when given.
    static func format(_ value: Double, scale: Int?) -> String {
        var value = value
        if let scale {
            // Round the shortest decimal form ("2.675"), not the binary double (2.67499…), so that halves
            // really go away from zero.
            if var exact = Decimal(string: String(value)) {
                var rounded = Decimal()
                NSDecimalRound(&rounded, &exact, scale, .plain)
                value = Double(rounded.description) ?? value
            } else {
                let factor = pow(10, Double(scale))
                value = (value * factor).rounded(.toNearestOrAwayFromZero) / factor
            }
        }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int(value)) }
        let text = String(value)
        if !text.contains("e") { return text }
        if let exact = Decimal(string: text) { return exact.description }  // 1e-12 → 0.000000000001, not 0.0000000000
        return String(format: "%.\(scale ?? 10)f", value)
    }
}
