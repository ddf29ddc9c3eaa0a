import Foundation
import MetadataStore
import PostgresClient

/// The shared store: one PostgreSQL database, reached through one libpq connection per process, used by one thread
/// at a time (a lock). Every compare-and-set is a guarded `UPDATE … WHERE state IN (…)` whose row count says whether
/// it won; where SQLite uses one transaction, so does this store. A serialization failure, deadlock or lock timeout is
/// retried a few times before it surfaces as a `.conflict`.
public final class PostgresMetadataStore: MetadataStore, @unchecked Sendable {
    /// Guards `connection`: libpq connections are not thread-safe.
    private let lock = NSLock()
    private let connection: PostgresConnection
    public let url: PostgresURL
    /// Tries of a transaction that hits a retryable conflict.
    static let conflictTries = 5
    /// Every session of the store starts with these. Single statements run without BEGIN, at the session's isolation
    /// level, and the claim's counts (decision 11) are correct at READ COMMITTED only, whatever the server's or the
    /// role's default.
    static let sessionSettings = "SET default_transaction_isolation = 'read committed'"

    /// Connects, and migrates unless `migrate` is false; a schema newer than this binary is refused either way, and a
    /// schema older than it is refused when not migrating, unless `allowOlder` (for `db migrate` and `db check`).
    public init(url text: String, migrate: Bool = true, allowOlder: Bool = false) throws {
        let url: PostgresURL
        do { url = try PostgresURL(text) } catch { throw Self.storeError(error, operation: StoreError.openOperation) }
        self.url = url
        do {
            connection = try PostgresConnection(url: url)
            try connection.execute(Self.sessionSettings)
        } catch {
            throw Self.storeError(error, operation: StoreError.openOperation)
        }
        try openSchema(migrate: migrate, allowOlder: allowOlder)
    }

    private func openSchema(migrate: Bool, allowOlder: Bool) throws {
        let migrator = Self.migrator
        do {
            let status = try migrator.status(connection)
            if status.isTooNew {
                throw StoreError(.schemaTooNew, operation: StoreError.openOperation, store: location,
                                 detail: migrator.tooNew(connection, status).message)
            }
            if migrate {
                try migrator.migrate(connection)
            } else if !status.pending.isEmpty, !allowOlder {
                throw StoreError(.permanent, operation: StoreError.openOperation, store: location,
                                 detail: "the schema is older than this binary (\(status.pending.joined(separator: ", ")) not applied); "
                                    + "run orchestrator db migrate")
            }
        } catch let error as StoreError {
            throw error
        } catch let error as PostgresError {
            throw Self.storeError(error, operation: StoreError.openOperation)
        }
    }

    /// `postgres://user:***@host:port/db`, for messages.
    public var location: String { url.description }

    /// This binary's migrations against the store's schema.
    public func schemaStatus() throws -> PostgresMigrator.Status {
        try read("read the schema version") { db throws(PostgresError) in try Self.migrator.status(db) }
    }

    /// Applies pending migrations; returns their names.
    public func migrate() throws -> [String] {
        try read("migrate") { db throws(PostgresError) in try Self.migrator.migrate(db) }
    }

    static func storeError(_ error: PostgresError, operation: String, store: String? = nil) -> StoreError {
        let kind: StoreError.Kind
        switch error.kind {
        case .retryableConflict: kind = .conflict
        case .unavailable, .badCredentials: kind = .unavailable
        case .permanent: kind = .permanent
        }
        // Say first what is wrong when it is about reaching the server, so `db check` names it.
        let problem = error.kind == .badCredentials ? "wrong user or password: " : (error.operation == "connect" ? "unreachable: " : "")
        let detail = problem + error.message + (error.sqlState.map { " (SQLSTATE \($0))" } ?? "")
        // A failure of a statement names it; a failure to connect says only why.
        let statement = operation == StoreError.openOperation || error.operation == "connect" ? "" : " [\(error.operation)]"
        return StoreError(kind, operation: operation, store: store ?? error.url, detail: detail + statement)
    }

    /// Runs `body` in one transaction, retrying it on a retryable conflict (the server rolled it back). A connection
    /// found lost before anything of the body was sent is reopened and the body run; one lost while the body ran is
    /// not: its commit may have landed, and running a compare-and-set again would report a lost race for a won one.
    /// That surfaces as `.unavailable`, for the caller to read again. `singleStatement` bodies run without
    /// BEGIN/COMMIT: one statement is a transaction by itself, and that saves two round trips on every claim.
    @discardableResult
    func write<T>(_ operation: String, singleStatement: Bool = false,
                  _ body: (PostgresConnection) throws(PostgresError) -> T) throws -> T {
        try lock.withLock {
            var tries = 0
            var reconnected = false
            while true {
                tries += 1
                var bodySent = false
                do throws(PostgresError) {
                    try reconnectIfNeeded()
                    if singleStatement {
                        bodySent = true
                        return try body(connection)
                    }
                    return try inTransaction(body, bodySent: &bodySent)
                } catch {
                    if error.kind == .retryableConflict, tries < Self.conflictTries {
                        // Back off a little (and more each time) so the transactions that collided do not collide again.
                        usleep(UInt32(1_000 * tries * Int.random(in: 1...4)))
                        continue
                    }
                    if error.kind == .unavailable, !connection.isConnected, bodySent {
                        throw StoreError(.unavailable, operation: operation, store: location,
                                         detail: "the connection was lost during the write, which may or may not have been committed: "
                                            + "read the state again before retrying (\(error.message))")
                    }
                    if error.kind == .unavailable, !reconnected, !connection.isConnected {
                        reconnected = true
                        continue
                    }
                    throw Self.storeError(error, operation: operation, store: location)
                }
            }
        }
    }

    /// Runs single statements outside a transaction (each sees one snapshot by itself).
    @discardableResult
    func read<T>(_ operation: String, _ body: (PostgresConnection) throws(PostgresError) -> T) throws -> T {
        try lock.withLock {
            var reconnected = false
            while true {
                do throws(PostgresError) {
                    try reconnectIfNeeded()
                    return try body(connection)
                } catch {
                    if error.kind == .unavailable, !reconnected, !connection.isConnected {
                        reconnected = true
                        continue
                    }
                    throw Self.storeError(error, operation: operation, store: location)
                }
            }
        }
    }

    /// `hasLostConnection` also notices a session the server ended while this one was idle, without a round trip.
    private func reconnectIfNeeded() throws(PostgresError) {
        if connection.hasLostConnection {
            try connection.reset()
            try connection.execute(Self.sessionSettings)
        }
    }

    private func inTransaction<T>(_ body: (PostgresConnection) throws(PostgresError) -> T,
                                  bodySent: inout Bool) throws(PostgresError) -> T {
        // A BEGIN that fails on a lost connection wrote nothing: the caller may run the whole body again.
        // The limits' count-then-update (decision 11) is correct at READ COMMITTED only: a server or role whose
        // default_transaction_isolation is higher must not change that.
        try connection.execute("BEGIN ISOLATION LEVEL READ COMMITTED")
        bodySent = true
        do {
            let value = try body(connection)
            try connection.execute("COMMIT")
            return value
        } catch {
            if connection.isConnected { try? connection.execute("ROLLBACK") }
            throw error
        }
    }
}
