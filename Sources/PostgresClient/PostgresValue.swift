/// A value bound to a `$n` parameter, sent as text: PostgreSQL converts it to the column's type.
public protocol PostgresValue {
    var postgresText: String { get }
}

extension String: PostgresValue { public var postgresText: String { self } }
extension Int: PostgresValue { public var postgresText: String { String(self) } }
extension Int64: PostgresValue { public var postgresText: String { String(self) } }
extension Int32: PostgresValue { public var postgresText: String { String(self) } }
extension Bool: PostgresValue { public var postgresText: String { self ? "true" : "false" } }
extension Double: PostgresValue {
    /// Swift prints the shortest text that reads back to the same Double, so a value survives the trip exactly.
    public var postgresText: String { isFinite ? "\(self)" : (isNaN ? "NaN" : (self > 0 ? "Infinity" : "-Infinity")) }
}
