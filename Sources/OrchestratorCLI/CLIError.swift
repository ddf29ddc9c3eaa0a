/// A user-facing failure: one line, no stack trace, a non-zero exit code.
public struct CLIError: Error, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
