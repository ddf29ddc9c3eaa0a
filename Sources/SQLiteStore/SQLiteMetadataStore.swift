import Foundation
import GRDB
import MetadataStore

/// The embedded store: one SQLite file in WAL mode, shared by the daemon, its workers and the CLI.
/// Writes use IMMEDIATE transactions and a busy timeout, so concurrent processes queue instead of failing.
public final class SQLiteMetadataStore: MetadataStore, Sendable {
    let dbQueue: DatabaseQueue
    public let path: String
    /// The writer's busy limit (30 s), lowered while it truncates an overfull WAL.
    let busyLimit = BusyLimit(tries: 300_000)

    /// Opens (creating if needed) and migrates the store at `path`. A read-only store (the status pages) opens
    /// its own connection to an existing store, so page loads never queue behind the scheduler's writes.
    public init(path: String, readOnly: Bool = false) throws {
        self.path = path
        var config = Configuration()
        config.readonly = readOnly
        if !readOnly { config.journalMode = .wal }
        // Retry a locked database every 100 µs (for up to 30 s) rather than with SQLite's 1–100 ms sleeps:
        // the scheduler and its workers hold the write lock for well under a millisecond at a time.
        let busyLimit = self.busyLimit
        config.busyMode = .callback { tries in busyLimit.shouldRetry(tries) }
        config.prepareDatabase { db in
            // WAL with synchronous=NORMAL is durable across process crashes; only power loss can drop the last commits.
            try Cached.execute(db, sql: "PRAGMA synchronous = NORMAL")
            try Cached.execute(db, sql: "PRAGMA foreign_keys = ON")
            // Checkpoints (and their fsyncs) run on the scheduler's background thread, never inside a commit
            // on the path between one task ending and the next starting (see startBackgroundCheckpoints).
            try Cached.execute(db, sql: "PRAGMA wal_autocheckpoint = 0")
            // Whichever connection restarts the WAL cuts a file grown past the limit back to it.
            try Cached.execute(db, sql: "PRAGMA journal_size_limit = \(SQLiteMetadataStore.walSizeLimit)")
        }
        do {
            if readOnly {
                dbQueue = try DatabaseQueue(path: path, configuration: config)
                return
            }
            try FileManager.default.createDirectory(
                atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            dbQueue = try DatabaseQueue(path: path, configuration: config)
        } catch {
            throw StoreError(Self.kind(of: error, opening: true), operation: StoreError.openOperation, store: "sqlite://" + path,
                             detail: Self.describe(error))
        }
        try migrate()
    }

    /// Applies this binary's migrations; a store already migrated further by a newer binary is refused untouched.
    func migrate() throws {
        let migrator = Self.migrator
        do {
            if try dbQueue.read({ try migrator.hasBeenSuperseded($0) }) {
                throw StoreError(.schemaTooNew, operation: StoreError.openOperation, store: "sqlite://" + path,
                                 detail: "its schema is newer than this binary's (\(migrator.migrations.last ?? "none")); upgrade orchestrator")
            }
            try migrator.migrate(dbQueue)
        } catch let error as StoreError { throw error } catch {
            throw StoreError(Self.kind(of: error, opening: true), operation: StoreError.openOperation, store: "sqlite://" + path,
                             detail: Self.describe(error))
        }
    }

    /// `sqlite:///path`, for messages.
    public var location: String { "sqlite://" + path }

    static func describe(_ error: any Error) -> String {
        if let error = error as? DatabaseError { return "\(error.resultCode): \(error.message ?? "")" }
        return "\(error)"
    }

    /// The kind of an SQLite failure: busy and locked are conflicts a retry can get past.
    static func kind(of error: any Error, opening: Bool = false) -> StoreError.Kind {
        guard let error = error as? DatabaseError else { return opening ? .unavailable : .permanent }
        switch error.resultCode {
        case .SQLITE_BUSY, .SQLITE_LOCKED: return .conflict
        case .SQLITE_CORRUPT, .SQLITE_NOTADB: return .corrupt
        case .SQLITE_CANTOPEN, .SQLITE_PERM, .SQLITE_AUTH, .SQLITE_READONLY: return .unavailable
        default: return opening ? .unavailable : .permanent
        }
    }

    func failure(_ operation: String, _ error: any Error) -> StoreError {
        if let error = error as? StoreError { return error }
        return StoreError(Self.kind(of: error), operation: operation, store: location, detail: Self.describe(error))
    }

    /// Runs `body` in a write transaction (BEGIN IMMEDIATE), turning database errors into `StoreError`s that name
    /// the operation. The transaction statements are cached like the others: GRDB's own transaction handling
    /// prepared them anew, with its authorizer, on every write, a tenth of the scheduler's CPU in a backfill.
    func write<T>(_ operation: String, _ body: (Database) throws -> T) throws -> T {
        do {
            return try dbQueue.writeWithoutTransaction { db in
                try Cached.execute(db, sql: "BEGIN IMMEDIATE TRANSACTION")
                do {
                    let result = try body(db)
                    try Cached.execute(db, sql: "COMMIT TRANSACTION")
                    truncateOverfullWAL(db)
                    return result
                } catch {
                    if db.isInsideTransaction { try? Cached.execute(db, sql: "ROLLBACK TRANSACTION") }
                    throw error
                }
            }
        } catch {
            throw failure(operation, error)
        }
    }

    /// Reads are single statements (each sees one snapshot by itself), so no transaction is opened around them.
    func read<T>(_ operation: String, _ body: (Database) throws -> T) throws -> T {
        do { return try dbQueue.unsafeRead(body) } catch {
            throw failure(operation, error)
        }
    }
}
