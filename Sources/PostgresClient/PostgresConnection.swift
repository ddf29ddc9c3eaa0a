import CLibPQ
import Foundation

/// One PostgreSQL connection through libpq. Parameters are always bound (`$1`, `$2`, … sent apart from the SQL), and
/// every parameterized statement is prepared once per connection and reused by name. Not thread-safe: a caller that
/// shares one serializes its use (see `PostgresMetadataStore`). Errors never include the password.
public final class PostgresConnection {
    let connection: OpaquePointer
    public let url: PostgresURL
    /// Prepared statement names by SQL text.
    private var prepared: [String: String] = [:]
    /// The last statement number used: it only goes up, so that a name freed (a reset, a vanished statement) is never
    /// reused while the server may still hold it.
    private var statementCount = 0

    /// Seconds libpq waits for a server that does not answer, unless the URL sets `connect_timeout`.
    public static let defaultConnectTimeout = 10

    /// Defaults the URL may override: a dead server or a half-open socket is noticed within about half a minute
    /// (keepalives while idle, tcp_user_timeout while a write is unacknowledged) instead of blocking for hours.
    /// No statement_timeout: `db copy` and migrations may rightly run long.
    public static let connectDefaults: [(String, String)] = [
        ("connect_timeout", "\(defaultConnectTimeout)"), ("keepalives", "1"), ("keepalives_idle", "10"),
        ("keepalives_interval", "5"), ("keepalives_count", "3"), ("tcp_user_timeout", "30000"),
    ]

    public convenience init(url: String) throws(PostgresError) {
        try self.init(url: try PostgresURL(url))
    }

    public init(url: PostgresURL, applicationName: String? = nil) throws(PostgresError) {
        self.url = url
        // Keywords before `dbname` are defaults the URL (expanded from dbname) overrides.
        let defaults = Self.connectDefaults + (applicationName.map { [("application_name", $0)] } ?? [])
        let keywords = defaults.map(\.0) + ["dbname"]
        let values = defaults.map(\.1) + [url.string]
        let connection = Self.withOptionalCStrings(keywords) { keys in
            Self.withOptionalCStrings(values) { vals in PQconnectdbParams(keys, vals, 1) }
        }
        guard let connection else {
            throw PostgresError(kind: .unavailable, url: url.description, operation: "connect", message: "out of memory")
        }
        self.connection = connection
        guard PQstatus(connection) == CONNECTION_OK else {
            let message = url.masking(Self.message(PQerrorMessage(connection)))
            // Every stored property is set, so deinit runs and closes the connection (PQfinish here would free it twice).
            throw PostgresError(kind: PostgresError.connectionKind(message: message), url: url.description, operation: "connect",
                                message: message)
        }
        // Notices (a DROP … CASCADE listing what went with it) are not errors: they would only clutter stderr.
        PQsetNoticeProcessor(connection, { _, _ in }, nil)
        // Timestamps travel as UTC text whatever the server's setting.
        try execute("SET TIME ZONE 'UTC'")
    }

    deinit { PQfinish(connection) }

    /// Whether the connection still works; a lost one is reopened with `reset()`.
    public var isConnected: Bool { PQstatus(connection) == CONNECTION_OK }

    /// Whether the connection is lost, reading first what the server may have sent meanwhile (the FATAL message and
    /// end of file of a session it ended while this one was idle): no round trip, and it never blocks.
    public var hasLostConnection: Bool {
        guard isConnected else { return true }
        // The first read takes the message, the second meets the end of file that marks the connection bad.
        if !isInTransaction { for _ in 0..<2 where isConnected { _ = PQconsumeInput(connection) } }
        return !isConnected
    }

    /// Reconnects with the same parameters; prepared statements are gone with the old session.
    public func reset() throws(PostgresError) {
        PQreset(connection)
        prepared.removeAll()
        guard isConnected else {
            let message = url.masking(lastError)
            throw PostgresError(kind: PostgresError.connectionKind(message: message), url: url.description, operation: "reconnect",
                                message: message)
        }
        try execute("SET TIME ZONE 'UTC'")
    }

    /// Whether a transaction is open on this connection.
    public var isInTransaction: Bool {
        let status = PQtransactionStatus(connection)
        return status == PQTRANS_INTRANS || status == PQTRANS_INERROR
    }

    /// libpq's message on one line (it adds hints on lines of their own, indented with tabs).
    static func message(_ pointer: UnsafePointer<CChar>?) -> String {
        (pointer.map { String(cString: $0) } ?? "unknown error").split(whereSeparator: \.isNewline)
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }.joined(separator: " ")
    }

    var lastError: String { Self.message(PQerrorMessage(connection)) }

    /// Runs SQL without parameters or results (several statements allowed): DDL, BEGIN/COMMIT, SET.
    public func execute(_ sql: String) throws(PostgresError) {
        let result = PQexec(connection, sql)
        defer { PQclear(result) }
        try check(result, sql)
    }

    /// Runs one statement with bound parameters (prepared on first use, then reused); returns its rows.
    @discardableResult
    public func query(_ sql: String, _ parameters: [PostgresValue?] = []) throws(PostgresError) -> PostgresRows {
        let name = try statementName(for: sql)
        let texts = parameters.map { $0?.postgresText }
        let result = Self.withOptionalCStrings(texts) { values in
            PQexecPrepared(connection, name, Int32(texts.count), values, nil, nil, 0)
        }
        do {
            try check(result, sql)
        } catch {
            PQclear(result)
            // A statement prepared in a session that has since been reset no longer exists.
            if error.sqlState == "26000" { prepared[sql] = nil }
            throw error
        }
        return PostgresRows(result)
    }

    /// Runs `body` in one transaction: committed when it returns, rolled back when it throws (its error rethrown).
    public func transaction<T>(_ isolation: IsolationLevel = .readCommitted, _ body: () throws -> T) throws -> T {
        try execute(isolation == .readCommitted ? "BEGIN" : "BEGIN ISOLATION LEVEL \(isolation.rawValue)")
        do {
            let value = try body()
            try execute("COMMIT")
            return value
        } catch {
            if isConnected { try? execute("ROLLBACK") }
            throw error
        }
    }

    public enum IsolationLevel: String, Sendable {
        case readCommitted = "READ COMMITTED"
        case repeatableRead = "REPEATABLE READ"
        case serializable = "SERIALIZABLE"
    }

    private func statementName(for sql: String) throws(PostgresError) -> String {
        if let name = prepared[sql] { return name }
        statementCount += 1
        let name = "orchestrator_\(statementCount)"
        let result = PQprepare(connection, name, sql, 0, nil)
        defer { PQclear(result) }
        try check(result, sql)
        prepared[sql] = name
        return name
    }

    /// Throws unless the result is a success; the error carries the SQLSTATE and its kind.
    func check(_ result: OpaquePointer?, _ sql: String) throws(PostgresError) {
        guard let result else {
            let message = url.masking(lastError)
            throw PostgresError(kind: isConnected ? .permanent : .unavailable, url: url.description, operation: Self.summary(sql),
                                message: message)
        }
        let status = PQresultStatus(result)
        guard status != PGRES_COMMAND_OK, status != PGRES_TUPLES_OK else { return }
        throw error(result, sql)
    }

    func error(_ result: OpaquePointer, _ sql: String) -> PostgresError {
        let sqlState = PQresultErrorField(result, Int32(UInt8(ascii: "C"))).map { String(cString: $0) }
        var kind = PostgresError.kind(sqlState: sqlState)
        if sqlState == nil, !isConnected { kind = .unavailable }
        let primary = PQresultErrorField(result, Int32(UInt8(ascii: "M"))).map { String(cString: $0) }
        return PostgresError(kind: kind, sqlState: sqlState, url: url.description, operation: Self.summary(sql),
                             message: url.masking(primary ?? Self.message(PQresultErrorMessage(result))))
    }

    /// The first line of a statement, shortened, for messages.
    public static func summary(_ sql: String) -> String {
        let line = sql.split(separator: "\n").first.map { $0.trimmingCharacters(in: .whitespaces) } ?? sql
        return line.count > 80 ? String(line.prefix(80)) + "…" : line
    }

    /// `"schema"."table"` quoting for one identifier.
    public static func quote(_ identifier: String) -> String { "\"\(identifier.replacingOccurrences(of: "\"", with: "\"\""))\"" }

    /// Hands libpq a NULL-terminated array of C strings (nil entries for SQL NULL), freed afterwards.
    static func withOptionalCStrings<R>(_ strings: [String?], _ body: (UnsafePointer<UnsafePointer<CChar>?>?) -> R) -> R {
        let copies: [UnsafeMutablePointer<CChar>?] = strings.map { $0.map { strdup($0) } ?? nil }
        defer { for pointer in copies { free(pointer) } }
        var pointers: [UnsafePointer<CChar>?] = copies.map { $0.map { UnsafePointer($0) } }
        pointers.append(nil)
        return pointers.withUnsafeBufferPointer { body($0.baseAddress) }
    }
}
