import GRDBSQLite
#if canImport(Glibc)
import Glibc
#endif

/// A small wrapper of the SQLite C API without Foundation: the worker (which must start in milliseconds)
/// and the transform library's bulk loads use it. The scheduler's store uses GRDB.
public final class SQLiteDatabase {
    private var handle: OpaquePointer?
    public let path: String

    /// Opens the database; `create` also creates the file. Waits on a locked database by retrying every
    /// 100 µs (for up to 30 s) instead of SQLite's 1–100 ms backoff.
    public init(path: String, create: Bool = false) throws(SQLiteError) {
        self.path = path
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (create ? SQLITE_OPEN_CREATE : 0)
        guard sqlite3_open_v2(path, &handle, flags, nil) == SQLITE_OK else {
            let message = handle.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            sqlite3_close(handle)
            handle = nil
            throw SQLiteError("cannot open \(path): \(message)")
        }
        sqlite3_busy_handler(handle, { _, tries in
            guard tries < 300_000 else { return 0 }
            usleep(100)
            return 1
        }, nil)
    }

    deinit { sqlite3_close(handle) }

    /// SQLITE_TRANSIENT (a macro Swift cannot import): SQLite copies the bound text.
    static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    /// Runs one or more statements without arguments.
    public func execute(_ sql: String) throws(SQLiteError) {
        var message: UnsafeMutablePointer<CChar>?
        guard sqlite3_exec(handle, sql, nil, nil, &message) == SQLITE_OK else {
            let text = message.map { String(cString: $0) } ?? errorMessage
            sqlite3_free(message)
            throw SQLiteError("\(Self.summary(sql)) failed: \(text)")
        }
    }

    /// Runs one statement with its arguments; returns the number of rows it changed.
    @discardableResult
    public func run(_ sql: String, _ arguments: [SQLiteValue] = []) throws(SQLiteError) -> Int {
        let statement = try prepare(sql)
        try statement.bind(arguments)
        while try statement.step() {}
        return changes
    }

    public func prepare(_ sql: String) throws(SQLiteError) -> SQLiteStatement {
        var statement: OpaquePointer?
        guard sqlite3_prepare_v2(handle, sql, -1, &statement, nil) == SQLITE_OK, let statement else {
            throw SQLiteError("\(Self.summary(sql)) failed: \(errorMessage)")
        }
        return SQLiteStatement(statement, database: self, sql: sql)
    }

    /// Prepares exactly one statement: anything but spaces, `;` and comments after it is an error (instead of
    /// being ignored, or run, as `execute` would).
    public func prepareSingle(_ sql: String) throws(SQLiteError) -> SQLiteStatement {
        var statement: OpaquePointer?
        var trailing = ""
        let result = sql.withCString { text -> Int32 in
            var tail: UnsafePointer<CChar>?
            let code = sqlite3_prepare_v2(handle, text, -1, &statement, &tail)
            if let tail { trailing = String(cString: tail) }
            return code
        }
        guard result == SQLITE_OK, let statement else {
            sqlite3_finalize(statement)
            throw SQLiteError("\(Self.summary(sql)) failed: \(errorMessage)")
        }
        let prepared = SQLiteStatement(statement, database: self, sql: sql)
        if !trailing.isEmpty {
            var rest: OpaquePointer?
            let code = sqlite3_prepare_v2(handle, trailing, -1, &rest, nil)
            let isEmpty = code == SQLITE_OK && rest == nil  // only comments, spaces and semicolons
            sqlite3_finalize(rest)
            guard isEmpty else { throw SQLiteError("\(Self.summary(sql)): only one statement is allowed") }
        }
        return prepared
    }

    /// Runs one statement (`prepareSingle`) with named arguments (`:name`); returns the rows it changed.
    @discardableResult
    public func run(_ sql: String, named arguments: [String: SQLiteValue]) throws(SQLiteError) -> Int {
        let statement = try prepareSingle(sql)
        try statement.bind(named: arguments)
        while try statement.step() {}
        return changes
    }

    public var changes: Int { Int(sqlite3_changes(handle)) }

    /// Runs `body` in an IMMEDIATE transaction (the write lock is taken up front); rolls back if it throws.
    public func transaction<T>(_ body: () throws(SQLiteError) -> T) throws(SQLiteError) -> T {
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

    var errorMessage: String { handle.map { String(cString: sqlite3_errmsg($0)) } ?? "no connection" }

    /// The first line of a statement, for error messages.
    static func summary(_ sql: String) -> String {
        let firstLine = sql.split(separator: "\n").first.map(String.init) ?? sql
        return firstLine.count > 80 ? String(firstLine.prefix(80)) + "…" : firstLine
    }
}

/// A prepared statement; finalised when released.
public final class SQLiteStatement {
    let handle: OpaquePointer
    let database: SQLiteDatabase
    let sql: String

    init(_ handle: OpaquePointer, database: SQLiteDatabase, sql: String) {
        self.handle = handle
        self.database = database
        self.sql = sql
    }

    deinit { sqlite3_finalize(handle) }

    /// Resets the statement and binds new arguments (1-based positions in order).
    public func bind(_ arguments: [SQLiteValue]) throws(SQLiteError) {
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
        for (index, argument) in arguments.enumerated() {
            let position = Int32(index + 1)
            let result = bindValue(argument, at: position)
            guard result == SQLITE_OK else { throw SQLiteError("binding argument \(position) of \(SQLiteDatabase.summary(sql)): \(database.errorMessage)") }
        }
    }

    /// Resets the statement and binds each of its `:name` parameters from `arguments`; a parameter without a
    /// value, or of another form (`?`, `?1`, `@x`, `$x`), is an error.
    public func bind(named arguments: [String: SQLiteValue]) throws(SQLiteError) {
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
        let count = sqlite3_bind_parameter_count(handle)
        guard count > 0 else { return }
        for position in 1...count {
            guard let cName = sqlite3_bind_parameter_name(handle, position) else {
                throw SQLiteError("\(SQLiteDatabase.summary(sql)): parameter \(position) has no name")
            }
            let name = String(cString: cName)
            guard name.hasPrefix(":"), let argument = arguments[String(name.dropFirst())] else {
                throw SQLiteError("\(SQLiteDatabase.summary(sql)): unknown parameter \(name) (known: \(arguments.keys.sorted().map { ":" + $0 }.joined(separator: ", ")))")
            }
            let result = bindValue(argument, at: position)
            guard result == SQLITE_OK else { throw SQLiteError("binding \(name) of \(SQLiteDatabase.summary(sql)): \(database.errorMessage)") }
        }
    }

    private func bindValue(_ argument: SQLiteValue, at position: Int32) -> Int32 {
        switch argument {
        case .null: return sqlite3_bind_null(handle, position)
        case .integer(let value): return sqlite3_bind_int64(handle, position, sqlite3_int64(value))
        case .real(let value): return sqlite3_bind_double(handle, position, value)
        case .text(let value): return sqlite3_bind_text(handle, position, value, -1, SQLiteDatabase.transient)
        }
    }

    /// Binds text without building a SQLiteValue (the bulk-load path).
    public func bindText(_ value: String?, at position: Int32) {
        if let value { sqlite3_bind_text(handle, position, value, -1, SQLiteDatabase.transient) } else { sqlite3_bind_null(handle, position) }
    }

    public func reset() {
        sqlite3_reset(handle)
    }

    /// Advances; true while a row is available.
    public func step() throws(SQLiteError) -> Bool {
        switch sqlite3_step(handle) {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        default: throw SQLiteError("\(SQLiteDatabase.summary(sql)) failed: \(database.errorMessage)")
        }
    }

    public var columnCount: Int { Int(sqlite3_column_count(handle)) }

    public func columnName(_ index: Int) -> String {
        sqlite3_column_name(handle, Int32(index)).map { String(cString: $0) } ?? "column\(index + 1)"
    }

    /// The storage class of the column in the current row.
    public func storageClass(_ index: Int) -> SQLiteStorageClass {
        switch sqlite3_column_type(handle, Int32(index)) {
        case SQLITE_INTEGER: return .integer
        case SQLITE_FLOAT: return .real
        case SQLITE_NULL: return .null
        case SQLITE_BLOB: return .blob
        default: return .text
        }
    }

    public func isNull(_ index: Int) -> Bool { sqlite3_column_type(handle, Int32(index)) == SQLITE_NULL }

    /// The column as text (numbers in SQLite's own formatting); nil for NULL.
    public func text(_ index: Int) -> String? {
        guard let pointer = sqlite3_column_text(handle, Int32(index)) else { return nil }
        return String(cString: pointer)
    }

    public func integer(_ index: Int) -> Int? { isNull(index) ? nil : Int(sqlite3_column_int64(handle, Int32(index))) }

    public func double(_ index: Int) -> Double? { isNull(index) ? nil : sqlite3_column_double(handle, Int32(index)) }

    /// Every row's columns as text, for small results (reports, failing test rows).
    public func allRows(limit: Int = .max) throws(SQLiteError) -> [[String?]] {
        var rows: [[String?]] = []
        while rows.count < limit, try step() {
            rows.append((0..<columnCount).map { text($0) })
        }
        return rows
    }
}

public enum SQLiteStorageClass: Sendable, Equatable {
    case integer, real, text, blob, null
}

public enum SQLiteValue: Sendable, Equatable {
    case null
    case integer(Int)
    case real(Double)
    case text(String)

    public init(_ value: Int32?) { self = value.map { .integer(Int($0)) } ?? .null }
    public init(_ value: Int?) { self = value.map { .integer($0) } ?? .null }
    public init(_ value: Double?) { self = value.map { .real($0) } ?? .null }
    public init(_ value: String?) { self = value.map { .text($0) } ?? .null }
}

public struct SQLiteError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
