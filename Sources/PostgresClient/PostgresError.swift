/// A PostgreSQL failure: what was being done, on which server (password masked), the server's SQLSTATE when it sent
/// one, and a kind that tells a caller whether trying again can help.
public struct PostgresError: Error, Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        /// Serialization failure, deadlock or lock not available: the same transaction, run again, may succeed.
        case retryableConflict = "retryable conflict"
        /// The server cannot be reached or the connection was lost (SQLSTATE class 08).
        case unavailable
        /// The server refused the user or password (28P01, 28000).
        case badCredentials = "bad credentials"
        /// Anything else: a bad statement, a constraint, a malformed URL. Trying again gives the same answer.
        case permanent
    }

    public let kind: Kind
    /// The five-character SQLSTATE, when the server sent one.
    public let sqlState: String?
    /// The server URL with its password masked.
    public let url: String
    /// What failed, for instance `connect` or the first line of the statement.
    public let operation: String
    /// The server's (or libpq's) message, with the URL's secrets masked.
    public let message: String

    public init(kind: Kind, sqlState: String? = nil, url: String, operation: String, message: String) {
        self.kind = kind
        self.sqlState = sqlState
        self.url = url
        self.operation = operation
        self.message = message
    }

    public var description: String {
        "\(url): \(operation) failed: \(message)" + (sqlState.map { " (SQLSTATE \($0))" } ?? "")
    }

    public var isRetryable: Bool { kind == .retryableConflict }

    /// The kind a SQLSTATE stands for.
    public static func kind(sqlState: String?) -> Kind {
        guard let sqlState else { return .permanent }
        switch sqlState {
        case "40001", "40P01", "55P03": return .retryableConflict
        case "28P01", "28000": return .badCredentials
        // 57P01..57P03: the server is shutting down or starting; the connection is gone either way.
        case "57P01", "57P02", "57P03": return .unavailable
        default: return sqlState.hasPrefix("08") ? .unavailable : .permanent
        }
    }

    /// libpq reports a failed connection without a SQLSTATE: its message tells a refused login from a server
    /// that cannot be reached.
    static func connectionKind(message: String) -> Kind {
        let lower = message.lowercased()
        if lower.contains("password authentication failed") || lower.contains("no password supplied")
            || lower.contains("authentication failed") || (lower.contains("role") && lower.contains("does not exist")) {
            return .badCredentials
        }
        if lower.contains("database") && lower.contains("does not exist") { return .permanent }
        return .unavailable
    }
}
