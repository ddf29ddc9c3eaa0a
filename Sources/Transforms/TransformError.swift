/// Why a transform failed: one readable sentence, naming the file, table, row or option at fault.
/// Never carries a secret (connection strings are redacted before they reach one).
public struct TransformError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
