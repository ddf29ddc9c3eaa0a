import CSQLite
#if canImport(Glibc)
import Glibc
#endif
import WorkerCore

/// A minimal wrapper of the SQLite C API for the worker, which must start in milliseconds and so links
/// neither Foundation nor GRDB. The schema belongs to SQLiteStore's migrations.
final class SQLiteConnection {
    private var handle: OpaquePointer?
    let path: String

    init(path: String) throws(AttemptStoreError) {
        self.path = path
        // No CREATE: a worker only ever writes to a store its scheduler made.
        guard sqlite3_open_v2(path, &handle, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nil) == SQLITE_OK else {
            let message = handle.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            sqlite3_close(handle)
            handle = nil
            throw AttemptStoreError("cannot open the store at \(path): \(message)")
        }
        // SQLite's own busy timeout sleeps 1, 2, 5, 10… ms between tries; a task hand-off waits on these
        // short write locks, so retry every 100 µs instead (for up to 30 s).
        sqlite3_busy_handler(handle, { _, tries in
            guard tries < 300_000 else { return 0 }
            usleep(100)
            return 1
        }, nil)
        try execute("PRAGMA synchronous = NORMAL")
        // The scheduler checkpoints in the background; a worker never pays for it inside its commit.
        try execute("PRAGMA wal_autocheckpoint = 0")
    }

    deinit { sqlite3_close(handle) }

    func execute(_ sql: String) throws(AttemptStoreError) {
        guard sqlite3_exec(handle, sql, nil, nil, nil) == SQLITE_OK else { throw error(sql) }
    }

    /// Runs one statement with its arguments; returns the number of rows it changed.
    @discardableResult
    func run(_ sql: String, _ arguments: [SQLiteValue]) throws(AttemptStoreError) -> Int {
        var statement: OpaquePointer?
        guard sqlite3_prepare_v2(handle, sql, -1, &statement, nil) == SQLITE_OK else { throw error(sql) }
        defer { sqlite3_finalize(statement) }
        for (index, argument) in arguments.enumerated() {
            let position = Int32(index + 1)
            switch argument {
            case .null: sqlite3_bind_null(statement, position)
            case .integer(let value): sqlite3_bind_int64(statement, position, sqlite3_int64(value))
            case .real(let value): sqlite3_bind_double(statement, position, value)
            case .text(let value): sqlite3_bind_text(statement, position, value, -1, csqlite_transient())
            }
        }
        let result = sqlite3_step(statement)
        guard result == SQLITE_DONE || result == SQLITE_ROW else { throw error(sql) }
        return Int(sqlite3_changes(handle))
    }

    /// Runs `body` in an IMMEDIATE transaction (the write lock is taken up front, so no deadlock on upgrade).
    func transaction<T>(_ body: () throws(AttemptStoreError) -> T) throws(AttemptStoreError) -> T {
        try execute("BEGIN IMMEDIATE")
        do {
            let value = try body()
            try execute("COMMIT")
            return value
        } catch {
            try? execute("ROLLBACK")
            throw error
        }
    }

    private func error(_ sql: String) -> AttemptStoreError {
        let message = handle.map { String(cString: sqlite3_errmsg($0)) } ?? "no connection"
        let verb = sql.split(separator: " ").first.map(String.init) ?? sql
        return AttemptStoreError("store \(path): \(verb) failed: \(message)")
    }
}

enum SQLiteValue {
    case null
    case integer(Int)
    case real(Double)
    case text(String)

    init(_ value: Int32?) { self = value.map { .integer(Int($0)) } ?? .null }
    init(_ value: Double?) { self = value.map { .real($0) } ?? .null }
    init(_ value: String?) { self = value.map { .text($0) } ?? .null }
}
