import Foundation

/// A YAML value of a task's `with:` map or a DAG's params, kept as typed JSON-like data
/// so that transforms receive lists and maps, not strings.
public indirect enum ConfigValue: Sendable, Equatable, Hashable, Codable {
    case string(String)
    case int(Int)
    case double(Double)
    case bool(Bool)
    case null
    case array([ConfigValue])
    case object([String: ConfigValue])

    /// The value as it appears inside a rendered string (`{{ params.x }}`).
    public var textForm: String {
        switch self {
        case .string(let s): return s
        case .int(let i): return String(i)
        case .double(let d): return String(d)
        case .bool(let b): return b ? "true" : "false"
        case .null: return ""
        case .array, .object: return jsonText
        }
    }

    /// A JSON encoding with sorted keys, stable across runs.
    public var jsonText: String {
        switch self {
        case .string(let s): return Self.quote(s)
        case .int(let i): return String(i)
        case .double(let d): return d.isFinite ? String(d) : "null"
        case .bool(let b): return b ? "true" : "false"
        case .null: return "null"
        case .array(let items): return "[" + items.map(\.jsonText).joined(separator: ",") + "]"
        case .object(let map):
            return "{" + map.keys.sorted().map { Self.quote($0) + ":" + (map[$0]?.jsonText ?? "null") }.joined(separator: ",") + "}"
        }
    }

    /// Applies `transform` to every string inside the value.
    public func mapStrings<E: Error>(_ transform: (String) throws(E) -> String) throws(E) -> ConfigValue {
        switch self {
        case .string(let s): return .string(try transform(s))
        case .array(let items):
            var out: [ConfigValue] = []
            for item in items { out.append(try item.mapStrings(transform)) }
            return .array(out)
        case .object(let map):
            var out: [String: ConfigValue] = [:]
            for (key, value) in map { out[key] = try value.mapStrings(transform) }
            return .object(out)
        default: return self
        }
    }

    /// Decodes a JSON document (as written by `jsonText`).
    public static func parseJSON(_ text: String) -> ConfigValue? {
        try? JSONDecoder().decode(ConfigValue.self, from: Data(text.utf8))
    }

    static func quote(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    out += String(format: "\\u%04x", scalar.value)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}

extension ConfigValue {
    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() { self = .null }
        else if let b = try? container.decode(Bool.self) { self = .bool(b) }
        else if let i = try? container.decode(Int.self) { self = .int(i) }
        else if let d = try? container.decode(Double.self) { self = .double(d) }
        else if let s = try? container.decode(String.self) { self = .string(s) }
        else if let a = try? container.decode([ConfigValue].self) { self = .array(a) }
        else { self = .object(try container.decode([String: ConfigValue].self)) }
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .string(let s): try container.encode(s)
        case .int(let i): try container.encode(i)
        case .double(let d): try container.encode(d)
        case .bool(let b): try container.encode(b)
        case .null: try container.encodeNil()
        case .array(let a): try container.encode(a)
        case .object(let o): try container.encode(o)
        }
    }
}
