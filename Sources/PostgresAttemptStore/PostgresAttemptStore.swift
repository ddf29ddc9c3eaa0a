import CLibPQ
import StoreAddress
import WorkerCore
#if canImport(Glibc)
import Glibc
#endif

/// The worker's compare-and-set writes on the PostgreSQL store: the same statements as SQLiteAttemptStore (and the
/// fields of `TaskInstanceTransition.poked` / `.attemptEnded`), over libpq directly, without Foundation, so the
/// worker stays a small process. Parameters are always bound; one connection, used by the worker's one thread.
/// A lost connection is reopened and the write tried again (see PostgresAttemptStore+Reconnect.swift).
public final class PostgresAttemptStore: AttemptStore {
    let connection: OpaquePointer
    let url: StoreURL
    /// Prepare each statement once (a long-lived connection: the daemon's, answering every worker) rather than have the
    /// server parse and plan it on every call (a worker's connection runs each statement once or twice).
    let prepares: Bool
    /// Statement name by SQL text, for this session (a reconnect starts a new session: emptied then).
    var prepared: [String: String] = [:]

    /// Defaults the store URL may override. A server that goes away, or a half-open socket, is noticed within about
    /// half a minute, so that a heartbeat cannot block the worker (and the execution timeout it enforces) for hours.
    static let connectDefaults: [(String, String)] = [
        ("connect_timeout", "10"), ("keepalives", "1"), ("keepalives_idle", "10"), ("keepalives_interval", "5"),
        ("keepalives_count", "3"), ("tcp_user_timeout", "30000"),
    ]

    /// `sslPassword`: the SSL key's passphrase, kept out of the worker's argv; by default the worker's
    /// `StoreURL.sslPasswordVariable`. `applicationName` tells the server's sessions apart (pg_stat_activity).
    public init(url: StoreURL, sslPassword: String? = getenv(StoreURL.sslPasswordVariable).map { String(cString: $0) },
                applicationName: String = "orchestrator worker", prepares: Bool = false) throws(AttemptStoreError) {
        self.url = url
        self.prepares = prepares
        // Keywords before `dbname` (the URL, expanded) are defaults; the SSL passphrase comes after it.
        var keywords = Self.connectDefaults.map(\.0) + ["application_name", "dbname"]
        var values = Self.connectDefaults.map(\.1) + [applicationName, url.connectionString]
        if let sslPassword {
            keywords.append("sslpassword")
            values.append(sslPassword)
        }
        guard let connection = Self.withCStrings(keywords, { keys in Self.withCStrings(values) { PQconnectdbParams(keys, $0, 1) } }) else {
            throw AttemptStoreError("store \(url): cannot connect: out of memory", kind: .unavailable)
        }
        self.connection = connection
        guard PQstatus(connection) == CONNECTION_OK else {
            // Every stored property is set, so deinit closes the connection.
            throw AttemptStoreError("store \(url): cannot connect: \(Self.oneLine(PQerrorMessage(connection)))", kind: .unavailable)
        }
    }

    deinit { PQfinish(connection) }

    public func claim(_ key: AttemptKey, pid: Int32, hostname: String, at time: Double) throws(AttemptStoreError) -> Double? {
        try reconnecting(landed: { () throws(AttemptStoreError) -> Double?? in try self.claimLanded(key, pid: pid, hostname: hostname) }) {
            () throws(AttemptStoreError) -> Double? in try claimOnce(key, pid: pid, hostname: hostname, at: time)
        }
    }

    /// The claim and its attempt row in one statement (one round trip, one transaction): the attempt is recorded only
    /// if the compare-and-set won, and the start it returns is the first one recorded (a sensor's first poke).
    private func claimOnce(_ key: AttemptKey, pid: Int32, hostname: String, at time: Double) throws(AttemptStoreError) -> Double? {
        let started = try statement("""
            WITH claimed AS (
                UPDATE task_instances SET state = 'running', pid = $5, hostname = $6, started_at = $7,
                    heartbeat_at = extract(epoch from clock_timestamp())
                WHERE dag_id = $1 AND run_id = $2 AND task_id = $3 AND state = 'queued' AND try_number = $4
                    AND (hostname IS NULL OR hostname = $6)
                RETURNING 1
            ), \(Self.attemptUpsert(from: "claimed", state: "'running'", endedAt: "NULL::double precision",
                                   outcome: "NULL::integer, NULL::integer, NULL::text"))
            RETURNING started_at)
            SELECT started_at FROM attempt
            """, Self.key(key) + [String(pid), hostname, Self.text(time)])
        guard started.rows == 1 else { return nil }
        return started.first.flatMap(Double.init) ?? time
    }

    public func reschedule(_ key: AttemptKey, nextPokeAt: Double, note: String, at time: Double) throws(AttemptStoreError) -> Bool {
        try reconnecting(landed: { () throws(AttemptStoreError) -> Bool? in try self.rescheduleLanded(key, nextPokeAt: nextPokeAt) }) {
            () throws(AttemptStoreError) -> Bool in try rescheduleOnce(key, nextPokeAt: nextPokeAt, note: note, at: time)
        }
    }

    private func rescheduleOnce(_ key: AttemptKey, nextPokeAt: Double, note: String, at time: Double) throws(AttemptStoreError) -> Bool {
        try run("""
            UPDATE task_instances SET state = 'up_for_retry', try_number = try_number - 1, next_retry_at = $5, note = $6,
                heartbeat_at = $7, pid = NULL, task_pid = NULL
            WHERE dag_id = $1 AND run_id = $2 AND task_id = $3 AND state = 'running' AND try_number = $4
            """, Self.key(key) + [Self.text(nextPokeAt), note, Self.text(time)]).rows == 1
    }

    public func setTaskPid(_ key: AttemptKey, taskPid: Int32) throws(AttemptStoreError) {
        // Setting the same value twice does no harm: no need to look whether a lost write landed.
        try reconnecting { () throws(AttemptStoreError) in
            _ = try run("""
                UPDATE task_instances SET task_pid = $5
                WHERE dag_id = $1 AND run_id = $2 AND task_id = $3 AND state = 'running' AND try_number = $4
                """, Self.key(key) + [String(taskPid)])
        }
    }

    /// Stamped with the server's clock: other nodes judge this heartbeat's age by that clock, whatever this one says.
    public func heartbeat(_ key: AttemptKey, at time: Double) throws(AttemptStoreError) -> HeartbeatResult {
        // Stamping twice does no harm: no need to look whether a lost write landed.
        try reconnecting { () throws(AttemptStoreError) -> HeartbeatResult in
            let changed = try run("""
                UPDATE task_instances SET heartbeat_at = extract(epoch from clock_timestamp())
                WHERE dag_id = $1 AND run_id = $2 AND task_id = $3 AND state = 'running' AND try_number = $4
                """, Self.key(key))
            guard changed.rows == 0 else { return .ours }
            // One column keeps `run` simple: the state (no spaces) and the try, space-separated.
            let now = try run("""
                SELECT state || ' ' || try_number FROM task_instances WHERE dag_id = $1 AND run_id = $2 AND task_id = $3
                """, Array(Self.key(key).prefix(3)))
            let fields = now.first?.split(separator: " ").map(String.init) ?? []
            return .takenAway(state: fields.first, tryNumber: fields.count > 1 ? Int(fields[1]) : nil)
        }
    }

    public func complete(_ key: AttemptKey, hostname: String, pid: Int32, outcome: AttemptOutcome) throws(AttemptStoreError) -> Bool {
        try reconnecting(landed: { () throws(AttemptStoreError) -> Bool? in try self.completeLanded(key, outcome: outcome) }) {
            () throws(AttemptStoreError) -> Bool in try completeOnce(key, hostname: hostname, pid: pid, outcome: outcome)
        }
    }

    /// The outcome and its attempt row in one statement (one round trip, one transaction).
    private func completeOnce(_ key: AttemptKey, hostname: String, pid: Int32, outcome: AttemptOutcome) throws(AttemptStoreError) -> Bool {
        try statement("""
            WITH ended AS (
                UPDATE task_instances SET state = $5, ended_at = $6, duration = $7, exit_code = $8, signal = $9, next_retry_at = $10,
                    note = $11, heartbeat_at = $6
                WHERE dag_id = $1 AND run_id = $2 AND task_id = $3 AND state = 'running' AND try_number = $4
                RETURNING 1
            ), \(Self.attemptUpsert(from: "ended", state: "$5", hostname: "$12", pid: "$13", startedAt: "$14", endedAt: "$6",
                                   outcome: "$8, $9, $11"))
            RETURNING 1)
            SELECT 1 FROM attempt
            """, Self.key(key) + [outcome.state, Self.text(outcome.endedAt), Self.text(outcome.endedAt - outcome.startedAt),
                                  outcome.exitCode.map { String($0) }, outcome.signal.map { String($0) },
                                  outcome.nextRetryAt.map(Self.text), outcome.note, hostname, String(pid), Self.text(outcome.startedAt)])
            .rows == 1
    }

    /// `attempt AS (INSERT …`: the same upsert as PostgresMetadataStore's (a later write keeps the first start; the
    /// conformance suite pins both), of the row `from` returned, if any. $1…$4 are the attempt's key; the caller
    /// closes it with its RETURNING list and `)`.
    static func attemptUpsert(from: String, state: String, hostname: String = "$6", pid: String = "$5", startedAt: String = "$7",
                              endedAt: String, outcome: String) -> String {
        """
        attempt AS (
            INSERT INTO task_attempts (dag_id, run_id, task_id, try_number, state, hostname, pid, started_at, ended_at,
                                       exit_code, signal, note)
            SELECT $1, $2, $3, $4::integer, \(state), \(hostname)::text, \(pid)::integer, \(startedAt)::double precision, \(endedAt), \(outcome) FROM \(from)
            ON CONFLICT (dag_id, run_id, task_id, try_number) DO UPDATE SET state = excluded.state,
                hostname = excluded.hostname, pid = excluded.pid, started_at = COALESCE(task_attempts.started_at, excluded.started_at),
                ended_at = excluded.ended_at, exit_code = excluded.exit_code, signal = excluded.signal, note = excluded.note
        """
    }

    // MARK: libpq

    /// One statement, a transaction by itself; a serialization failure or deadlock (which a worker's single-row updates
    /// rarely meet) is tried again a few times.
    private func statement(_ sql: String, _ parameters: [String?]) throws(AttemptStoreError) -> (rows: Int, first: String?) {
        var tries = 0
        while true {
            tries += 1
            do {
                return try run(sql, parameters)
            } catch {
                if error.kind == .conflict, tries < 5 { usleep(UInt32(1_000 * tries)); continue }
                throw error
            }
        }
    }

    /// One statement with text parameters (nil: NULL); the affected row count and the first column of each row.
    func run(_ sql: String, _ parameters: [String?]) throws(AttemptStoreError) -> (rows: Int, first: String?) {
        let copies: [UnsafeMutablePointer<CChar>?] = parameters.map { $0.flatMap { strdup($0) } }
        defer { for pointer in copies { free(pointer) } }
        var pointers: [UnsafePointer<CChar>?] = copies.map { $0.map { UnsafePointer($0) } }
        pointers.append(nil)
        let name = try prepares ? preparedName(sql, parameterCount: parameters.count) : nil
        let result = pointers.withUnsafeBufferPointer { values in
            if let name { return PQexecPrepared(connection, name, Int32(parameters.count), values.baseAddress, nil, nil, 0) }
            return PQexecParams(connection, sql, Int32(parameters.count), nil, values.baseAddress, nil, nil, 0)
        }
        defer { PQclear(result) }
        let status = PQresultStatus(result)
        guard let result, status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK else {
            throw failure(of: result)
        }
        let first = PQntuples(result) > 0 && PQgetisnull(result, 0, 0) == 0 ? PQgetvalue(result, 0, 0).map { String(cString: $0) } : nil
        let changed = PQcmdTuples(result).map { Int(String(cString: $0)) ?? 0 } ?? 0
        return (changed, first)
    }

    /// The error of a failed call: the server's message and SQLSTATE, or libpq's.
    func failure(of result: OpaquePointer?) -> AttemptStoreError {
        let state = result.flatMap { PQresultErrorField($0, Int32(UInt8(ascii: "C"))) }.map { String(cString: $0) }
        let message = result.map { Self.oneLine(PQresultErrorField($0, Int32(UInt8(ascii: "M")))) } ?? Self.oneLine(PQerrorMessage(connection))
        return AttemptStoreError("store \(url): \(message)" + (state.map { " (SQLSTATE \($0))" } ?? ""), kind: Self.kind(state: state, connection: connection))
    }

    /// The session's name for `sql`, prepared at its first use.
    func preparedName(_ sql: String, parameterCount: Int) throws(AttemptStoreError) -> String {
        if let name = prepared[sql] { return name }
        let name = "orchestrator_attempt_\(prepared.count + 1)"
        let result = PQprepare(connection, name, sql, Int32(parameterCount), nil)
        defer { PQclear(result) }
        guard let result, PQresultStatus(result) == PGRES_COMMAND_OK else {
            throw failure(of: result)
        }
        prepared[sql] = name
        return name
    }

    /// Lost connection (or a server going down, class 08 / 57P) first; then the conflicts that another try may get past.
    static func kind(state: String?, connection: OpaquePointer) -> AttemptStoreError.Kind {
        if PQstatus(connection) != CONNECTION_OK || state?.hasPrefix("08") == true || state?.hasPrefix("57P") == true { return .unavailable }
        if state?.hasPrefix("40") == true || state == "55P03" { return .conflict }
        return .permanent
    }

    static func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafePointer<CChar>?>?) -> R) -> R {
        let copies = strings.map { strdup($0) }
        defer { for pointer in copies { free(pointer) } }
        var pointers: [UnsafePointer<CChar>?] = copies.map { $0.map { UnsafePointer($0) } }
        pointers.append(nil)
        return pointers.withUnsafeBufferPointer { body($0.baseAddress) }
    }

    static func key(_ key: AttemptKey) -> [String?] { [key.dagId, key.runId, key.taskId, String(key.tryNumber)] }

    /// Swift's shortest round-trip text for a double, which PostgreSQL reads back to the same value.
    static func text(_ value: Double) -> String { "\(value)" }

    static func oneLine(_ pointer: UnsafePointer<CChar>?) -> String {
        guard let pointer else { return "unknown error" }
        var text = ""
        var lastWasSpace = true
        for scalar in String(cString: pointer).unicodeScalars {
            let isSpace = scalar == "\n" || scalar == "\t" || scalar == " " || scalar == "\r"
            if isSpace { if !lastWasSpace { text.append(" ") } } else { text.unicodeScalars.append(scalar) }
            lastWasSpace = isSpace
        }
        return text.hasSuffix(" ") ? String(text.dropLast()) : text
    }
}
