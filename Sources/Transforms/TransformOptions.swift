import Foundation

/// A transform's `with:` map (rendered JSON from the DAG file), with typed accessors whose errors name the
/// operation and the option.
public struct TransformOptions: @unchecked Sendable {
    public let operation: String
    let values: [String: Any]

    public init(operation: String, json: String) throws(TransformError) {
        self.operation = operation
        guard let data = json.data(using: .utf8),
              let object = try? JSONSerialization.jsonObject(with: data), let values = object as? [String: Any] else {
            throw TransformError("\(operation): --with must be a JSON object, got \(json.prefix(80))")
        }
        self.values = values
    }

    init(operation: String, values: [String: Any]) {
        self.operation = operation
        self.values = values
    }

    public var keys: [String] { values.keys.sorted() }

    /// Fails on options the operation does not know, with a suggestion.
    public func allowOnly(_ known: [String]) throws(TransformError) {
        for key in keys where !known.contains(key) {
            throw TransformError("\(operation): unknown option '\(key)' (options: \(known.joined(separator: ", ")))")
        }
    }

    public func string(_ name: String) throws(TransformError) -> String {
        guard let value = try optionalString(name) else { throw TransformError("\(operation): option '\(name)' is required") }
        return value
    }

    public func optionalString(_ name: String) throws(TransformError) -> String? {
        guard let value = values[name], !(value is NSNull) else { return nil }
        if let text = value as? String { return text }
        if let number = value as? NSNumber { return number.stringValue }
        throw TransformError("\(operation): option '\(name)' must be a string")
    }

    public func strings(_ name: String) throws(TransformError) -> [String] {
        guard let value = values[name], !(value is NSNull) else { return [] }
        if let text = value as? String { return [text] }
        guard let list = value as? [Any] else { throw TransformError("\(operation): option '\(name)' must be a list of strings") }
        var out: [String] = []
        for item in list {
            guard let text = (item as? String) ?? (item as? NSNumber)?.stringValue else {
                throw TransformError("\(operation): option '\(name)' must be a list of strings")
            }
            out.append(text)
        }
        return out
    }

    public func int(_ name: String) throws(TransformError) -> Int? {
        guard let value = values[name], !(value is NSNull) else { return nil }
        if let number = value as? NSNumber { return number.intValue }
        if let text = value as? String, let number = Int(text) { return number }
        throw TransformError("\(operation): option '\(name)' must be a whole number")
    }

    public func bool(_ name: String, default fallback: Bool) throws(TransformError) -> Bool {
        guard let value = values[name], !(value is NSNull) else { return fallback }
        if let flag = value as? Bool { return flag }
        if let text = value as? String, let flag = Bool(text.lowercased()) { return flag }
        throw TransformError("\(operation): option '\(name)' must be true or false")
    }

    /// A nested map (for inline tests and rules).
    public func object(_ name: String) throws(TransformError) -> [String: Any]? {
        guard let value = values[name], !(value is NSNull) else { return nil }
        guard let object = value as? [String: Any] else { throw TransformError("\(operation): option '\(name)' must be a map") }
        return object
    }

    public func list(_ name: String) throws(TransformError) -> [Any]? {
        guard let value = values[name], !(value is NSNull) else { return nil }
        guard let list = value as? [Any] else { throw TransformError("\(operation): option '\(name)' must be a list") }
        return list
    }
}
