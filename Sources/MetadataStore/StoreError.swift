/// A store failure: what kind, which operation, on which store (password masked), and the backend's message.
/// Never carries secrets or statement arguments.
public struct StoreError: Error, Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable, CaseIterable {
        /// Another transaction got in the way (serialization failure, deadlock, database busy or locked):
        /// the same operation may succeed if retried.
        case conflict
        /// The store cannot be reached or opened (no server, refused connection, wrong credentials, missing file).
        case unavailable
        /// Another scheduler holds the store's scheduler lease.
        case leaseHeld
        /// The store was migrated by a newer binary than this one.
        case schemaTooNew
        /// The store's contents are not what this binary wrote (a damaged file, a row it cannot decode).
        case corrupt
        /// Anything else: retrying will not help.
        case permanent
    }

    public let kind: Kind
    /// What was being done, e.g. "create run scheduled__2024-01-01T00:00:00+00:00".
    public let operation: String
    /// The store's URL with its password masked.
    public let store: String
    /// The backend's own message (an SQLite result code and text, a PostgreSQL SQLSTATE and message).
    public let detail: String

    public init(_ kind: Kind, operation: String, store: String, detail: String) {
        self.kind = kind
        self.operation = operation
        self.store = store
        self.detail = detail
    }

    /// Whether the same call may succeed if simply tried again.
    public var isRetryable: Bool { kind == .conflict }

    public var description: String {
        if kind == .leaseHeld { return detail }
        if operation == StoreError.openOperation { return "cannot open the store at \(store): \(detail)" }
        return "store \(store): \(operation) failed: \(detail)"
    }

    /// The operation of a failure to open or migrate the store.
    public static let openOperation = "open"
}
