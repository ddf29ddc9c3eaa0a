import SQLiteDirect
import WorkerCore

/// The worker's compare-and-set writes on the SQLite store, mirroring SQLiteMetadataStore's claims.
public final class SQLiteAttemptStore: AttemptStore {
    let connection: SQLiteDatabase

    /// Opens the store its scheduler created (never creates one).
    public init(path: String) throws(AttemptStoreError) {
        do {
            connection = try SQLiteDatabase(path: path)
            try connection.execute("PRAGMA synchronous = NORMAL")
            // The scheduler checkpoints in the background; a worker never pays for it inside its commit.
            try connection.execute("PRAGMA wal_autocheckpoint = 0")
            // The same WAL size limit as the scheduler's connections (SQLiteMetadataStore.walSizeLimit): a worker may be
            // the writer that restarts the WAL after a checkpoint.
            try connection.execute("PRAGMA journal_size_limit = 67108864")
        } catch {
            throw AttemptStoreError("store \(path): \(error.description)", kind: .unavailable)
        }
    }

    /// Runs store work, turning SQLite errors into the protocol's error type.
    func store<T>(_ body: () throws(SQLiteError) -> T) throws(AttemptStoreError) -> T {
        do { return try body() } catch { throw AttemptStoreError("store \(connection.path): \(error.description)") }
    }

    public func claim(_ key: AttemptKey, pid: Int32, hostname: String, at time: Double) throws(AttemptStoreError) -> Double? {
        try store { () throws(SQLiteError) -> Double? in try connection.transaction { () throws(SQLiteError) -> Double? in
            let changed = try connection.run("""
                UPDATE task_instances SET state = 'running', pid = ?, hostname = ?, started_at = ?, heartbeat_at = ?
                WHERE dag_id = ? AND run_id = ? AND task_id = ? AND state = 'queued' AND try_number = ?
                    AND (hostname IS NULL OR hostname = ?)
                """, [SQLiteValue(pid), .text(hostname), .real(time), .real(time)] + Self.keyArguments(key) + [.text(hostname)])
            guard changed == 1 else { return nil }
            try recordAttempt(key, state: "running", hostname: hostname, pid: pid, startedAt: time, endedAt: nil,
                              exitCode: nil, signal: nil, note: nil)
            let statement = try connection.prepare("""
                SELECT started_at FROM task_attempts WHERE dag_id = ? AND run_id = ? AND task_id = ? AND try_number = ?
                """)
            try statement.bind(Self.keyArguments(key))
            return try statement.step() ? (statement.double(0) ?? time) : time
        } }
    }

    /// The fields of `TaskInstanceTransition.poked` (this module links no Foundation, so it cannot call it).
    public func reschedule(_ key: AttemptKey, nextPokeAt: Double, note: String, at time: Double) throws(AttemptStoreError) -> Bool {
        try store { () throws(SQLiteError) -> Bool in
            try connection.run("""
                UPDATE task_instances SET state = 'up_for_retry', try_number = try_number - 1, next_retry_at = ?, note = ?,
                    heartbeat_at = ?, pid = NULL, task_pid = NULL
                WHERE dag_id = ? AND run_id = ? AND task_id = ? AND state = 'running' AND try_number = ?
                """, [.real(nextPokeAt), .text(note), .real(time)] + Self.keyArguments(key)) == 1
        }
    }

    public func setTaskPid(_ key: AttemptKey, taskPid: Int32) throws(AttemptStoreError) {
        try store { () throws(SQLiteError) in _ = try connection.run("""
            UPDATE task_instances SET task_pid = ?
            WHERE dag_id = ? AND run_id = ? AND task_id = ? AND state = 'running' AND try_number = ?
            """, [SQLiteValue(taskPid)] + Self.keyArguments(key)) }
    }

    public func heartbeat(_ key: AttemptKey, at time: Double) throws(AttemptStoreError) -> HeartbeatResult {
        try store { () throws(SQLiteError) -> HeartbeatResult in
            let changed = try connection.run("""
                UPDATE task_instances SET heartbeat_at = ?
                WHERE dag_id = ? AND run_id = ? AND task_id = ? AND state = 'running' AND try_number = ?
                """, [.real(time)] + Self.keyArguments(key))
            guard changed == 0 else { return .ours }
            let statement = try connection.prepare("""
                SELECT state, try_number FROM task_instances WHERE dag_id = ? AND run_id = ? AND task_id = ?
                """)
            try statement.bind(Array(Self.keyArguments(key).prefix(3)))
            guard try statement.step() else { return .takenAway(state: nil, tryNumber: nil) }
            return .takenAway(state: statement.text(0), tryNumber: statement.integer(1))
        }
    }

    /// The fields of `TaskInstanceTransition.attemptEnded`, and the attempt recorded as `recordAttempt` does.
    public func complete(_ key: AttemptKey, hostname: String, pid: Int32, outcome: AttemptOutcome) throws(AttemptStoreError) -> Bool {
        try store { () throws(SQLiteError) -> Bool in try connection.transaction { () throws(SQLiteError) -> Bool in
            let changed = try connection.run("""
                UPDATE task_instances SET state = ?, ended_at = ?, duration = ?, exit_code = ?, signal = ?, next_retry_at = ?,
                    note = ?, heartbeat_at = ?
                WHERE dag_id = ? AND run_id = ? AND task_id = ? AND state = 'running' AND try_number = ?
                """, [.text(outcome.state), .real(outcome.endedAt), .real(outcome.endedAt - outcome.startedAt),
                      SQLiteValue(outcome.exitCode), SQLiteValue(outcome.signal), SQLiteValue(outcome.nextRetryAt),
                      SQLiteValue(outcome.note), .real(outcome.endedAt)] + Self.keyArguments(key))
            guard changed == 1 else { return false }
            try recordAttempt(key, state: outcome.state, hostname: hostname, pid: pid, startedAt: outcome.startedAt,
                              endedAt: outcome.endedAt, exitCode: outcome.exitCode, signal: outcome.signal, note: outcome.note)
            return true
        } }
    }

    /// The same upsert as SQLiteMetadataStore's (a later write keeps the first start); the conformance suite pins both.
    func recordAttempt(_ key: AttemptKey, state: String, hostname: String, pid: Int32, startedAt: Double, endedAt: Double?,
                       exitCode: Int32?, signal: Int32?, note: String?) throws(SQLiteError) {
        try connection.run("""
            INSERT INTO task_attempts (dag_id, run_id, task_id, try_number, state, hostname, pid, started_at, ended_at,
                                       exit_code, signal, note)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT(dag_id, run_id, task_id, try_number) DO UPDATE SET state = excluded.state,
                hostname = excluded.hostname, pid = excluded.pid, started_at = COALESCE(task_attempts.started_at, excluded.started_at),
                ended_at = excluded.ended_at, exit_code = excluded.exit_code, signal = excluded.signal, note = excluded.note
            """, Self.keyArguments(key) + [.text(state), .text(hostname), SQLiteValue(pid), .real(startedAt), SQLiteValue(endedAt),
                                           SQLiteValue(exitCode), SQLiteValue(signal), SQLiteValue(note)])
    }

    /// dag_id, run_id, task_id, try_number: the WHERE tail of every claim.
    static func keyArguments(_ key: AttemptKey) -> [SQLiteValue] {
        [.text(key.dagId), .text(key.runId), .text(key.taskId), .integer(key.tryNumber)]
    }
}
