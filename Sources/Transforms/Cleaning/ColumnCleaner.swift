import Foundation

/// Applies one column's rules to a raw value: the cleaned text, or the rule it breaks and why.
struct ColumnCleaner {
    let rule: CleaningRules.ColumnRule
    let regex: NSRegularExpression?
    /// Keys of the referenced table, when the column has `references:`.
    var knownReferences: Set<String>?

    enum Outcome {
        case value(String)
        case rejected(rule: String, reason: String)
    }

    init(rule: CleaningRules.ColumnRule) {
        self.rule = rule
        self.regex = rule.pattern.flatMap { try? NSRegularExpression(pattern: $0) }
    }

    func clean(_ raw: String) -> Outcome {
        if raw.unicodeScalars.contains("\u{FFFD}") {
            return .rejected(rule: "utf8", reason: "\(rule.name) is not valid UTF-8")
        }
        var text = rule.trim ? Self.trimmed(raw) : raw
        if text.isEmpty {
            return rule.required ? .rejected(rule: "required", reason: "\(rule.name) is empty") : .value("")
        }
        if rule.lowercase { text = text.lowercased() }
        if rule.uppercase { text = text.uppercased() }
        var number: Double?
        switch rule.type {
        case .string:
            break
        case .int:
            guard let value = Int(text.hasPrefix("+") ? String(text.dropFirst()) : text) else {
                return .rejected(rule: "type", reason: "\(rule.name) '\(text)' is not a whole number")
            }
            text = String(value)
            number = Double(value)
        case .decimal:
            guard let value = Double(text), value.isFinite, text.utf8.allSatisfy({ ($0 >= 48 && $0 <= 57) || $0 == 46 || $0 == 45 || $0 == 43 || $0 == 101 || $0 == 69 }) else {
                return .rejected(rule: "type", reason: "\(rule.name) '\(text)' is not a number")
            }
            number = value
            text = Self.format(value, scale: rule.scale)
        case .bool:
            switch text.lowercased() {
            case "true", "t", "yes", "y", "1": text = "true"
            case "false", "f", "no", "n", "0": text = "false"
            default: return .rejected(rule: "type", reason: "\(rule.name) '\(text)' is not true or false")
            }
        case .date, .timestamp:
            guard let fields = rule.formats.lazy.compactMap({ $0.match(text) }).first else {
                let formats = rule.formats.map(\.text).joined(separator: ", ")
                return .rejected(rule: "type", reason: "\(rule.name) '\(text)' matches none of the formats \(formats)")
            }
            text = rule.type == .date ? fields.isoDate : DateFields.isoUTC(epochSeconds: fields.epochSeconds(zone: rule.timeZone))
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
        if let known = knownReferences, let reference = rule.references, !known.contains(text) {
            return .rejected(rule: "foreign_key", reason: "\(rule.name) \(text) is not a \(reference.column) of \(reference.table)")
        }
        return .value(text)
    }

    /// Spaces, tabs and line breaks off both ends (ASCII fast path).
    static func trimmed(_ text: String) -> String {
        let utf8 = text.utf8
        guard let first = utf8.first, let last = utf8.last else { return text }
        func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D || byte == 0xA0 }
        if !isSpace(first) && !isSpace(last) { return text }
        return text.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Shortest decimal form, without exponent; rounded half away from zero to `scale` places when given.
    static func format(_ value: Double, scale: Int?) -> String {
        var value = value
        if let scale {
            let factor = pow(10, Double(scale))
            value = (value * factor).rounded(.toNearestOrAwayFromZero) / factor
        }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int(value)) }
        let text = String(value)
        if !text.contains("e") { return text }
        return String(format: "%.\(scale ?? 10)f", value)
    }
}
