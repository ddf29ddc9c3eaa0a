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

    // MARK: DAGs

    public func syncDags(_ dags: [(dagId: String, fileLocation: String)], importErrors: [String: String], at time: Date) throws {
        let now = time.timeIntervalSince1970
        try write("sync dags") { db in
            try Cached.execute(db, sql: "UPDATE dags SET is_active = 0")
            for dag in dags {
                try Cached.execute(db, sql: """
                    INSERT INTO dags (dag_id, is_paused, file_location, is_active, updated_at) VALUES (?, 0, ?, 1, ?)
                    ON CONFLICT(dag_id) DO UPDATE SET file_location = excluded.file_location, is_active = 1, updated_at = excluded.updated_at
                    """, arguments: [dag.dagId, dag.fileLocation, now])
            }
            try Cached.execute(db, sql: "DELETE FROM import_errors")
            for (file, message) in importErrors {
                try Cached.execute(db, sql: "INSERT INTO import_errors (file, message, updated_at) VALUES (?, ?, ?)", arguments: [file, message, now])
            }
        }
    }

    public func registerDag(dagId: String, fileLocation: String, at time: Date) throws {
        try write("register dag") { db in
            try Cached.execute(db, sql: """
                INSERT INTO dags (dag_id, is_paused, file_location, is_active, updated_at) VALUES (?, 0, ?, 1, ?)
                ON CONFLICT(dag_id) DO UPDATE SET file_location = excluded.file_location, is_active = 1
                """, arguments: [dagId, fileLocation, time.timeIntervalSince1970])
        }
    }

    public func dags() throws -> [DagRecord] {
        try read("list dags") { db in
            try Cached.rows(db, sql: "SELECT dag_id, is_paused, file_location FROM dags WHERE is_active = 1 ORDER BY dag_id").map {
                DagRecord(dagId: $0["dag_id"], isPaused: $0["is_paused"], fileLocation: $0["file_location"])
            }
        }
    }

    public func setPaused(dagId: String, paused: Bool) throws -> Bool {
        try write("pause dag") { db in
            try Cached.execute(db, sql: "UPDATE dags SET is_paused = ? WHERE dag_id = ?", arguments: [paused, dagId])
            return db.changesCount > 0
        }
    }

    public func importErrors() throws -> [String: String] {
        try read("list import errors") { db in
            Dictionary(try Cached.rows(db, sql: "SELECT file, message FROM import_errors").map { ($0["file"], $0["message"]) },
                       uniquingKeysWith: { a, _ in a })
        }
    }

    // MARK: Runs

    public func createRun(_ run: DagRun, taskInstances: [TaskInstance]) throws -> Bool {
        try write("create run \(run.runId)") { db in
            try Cached.execute(db, sql: """
                INSERT INTO dag_runs (dag_id, run_id, logical_date, data_interval_start, data_interval_end, run_type, state,
                                      params, backfill_id, created_at, started_at, ended_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING
                """, arguments: [
                    run.dagId, run.runId, run.logicalDate.timeIntervalSince1970, run.dataIntervalStart.timeIntervalSince1970,
                    run.dataIntervalEnd.timeIntervalSince1970, run.runType.rawValue, run.state.rawValue, run.paramsJSON,
                    run.backfillId, run.createdAt.timeIntervalSince1970, run.startedAt?.timeIntervalSince1970,
                    run.endedAt?.timeIntervalSince1970,
                ])
            guard db.changesCount > 0 else { return false }
            for ti in taskInstances {
                try Cached.execute(db, sql: """
                    INSERT INTO task_instances (dag_id, run_id, task_id, state, try_number, max_tries, pool, priority_weight)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    """, arguments: [ti.key.dagId, ti.key.runId, ti.key.taskId, ti.state.rawValue, ti.tryNumber, ti.maxTries,
                                     ti.pool, ti.priorityWeight])
            }
            return true
        }
    }

    public func addTaskInstances(_ taskInstances: [TaskInstance]) throws -> Int {
        try write("add task instances") { db in
            var added = 0
            for ti in taskInstances {
                try Cached.execute(db, sql: """
                    INSERT INTO task_instances (dag_id, run_id, task_id, state, try_number, max_tries, pool, priority_weight)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING
                    """, arguments: [ti.key.dagId, ti.key.runId, ti.key.taskId, ti.state.rawValue, ti.tryNumber, ti.maxTries,
                                     ti.pool, ti.priorityWeight])
                added += db.changesCount
            }
            return added
        }
    }

    public func run(dagId: String, runId: String) throws -> DagRun? {
        try read("read run") { db in
            try Cached.row(db, sql: "SELECT \(Self.dagRunColumns) FROM dag_runs WHERE dag_id = ? AND run_id = ?", arguments: [dagId, runId]).map(Self.dagRun)
        }
    }

    public func run(dagId: String, logicalDate: Date) throws -> DagRun? {
        try read("read run") { db in
            try Cached.row(db, sql: "SELECT \(Self.dagRunColumns) FROM dag_runs WHERE dag_id = ? AND logical_date = ?",
                             arguments: [dagId, logicalDate.timeIntervalSince1970]).map(Self.dagRun)
        }
    }

    public func runs(_ filter: RunFilter) throws -> [DagRun] {
        var clauses: [String] = []
        var arguments: [(any DatabaseValueConvertible)?] = []
        if let dagId = filter.dagId { clauses.append("dag_id = ?"); arguments.append(dagId) }
        if let states = filter.states {
            clauses.append("state IN (\(states.map { _ in "?" }.joined(separator: ",")))")
            arguments += states.map(\.rawValue)
        }
        if let id = filter.backfillId { clauses.append("backfill_id = ?"); arguments.append(id) }
        if let from = filter.logicalDateFrom { clauses.append("logical_date >= ?"); arguments.append(from.timeIntervalSince1970) }
        if let through = filter.logicalDateThrough { clauses.append("logical_date <= ?"); arguments.append(through.timeIntervalSince1970) }
        var sql = "SELECT \(Self.dagRunColumns) FROM dag_runs"
        if !clauses.isEmpty { sql += " WHERE " + clauses.joined(separator: " AND ") }
        sql += filter.newestFirst ? " ORDER BY logical_date DESC, dag_id" : " ORDER BY logical_date, dag_id"
        if let limit = filter.limit { sql += " LIMIT \(max(0, limit))" }
        if filter.offset > 0 { sql += (filter.limit == nil ? " LIMIT -1" : "") + " OFFSET \(filter.offset)" }
        let statementArguments = StatementArguments(arguments)
        return try read("list runs") { db in
            try Cached.rows(db, sql: sql, arguments: statementArguments).map(Self.dagRun)
        }
    }

    public func runCountsByState(backfillId: Int64?) throws -> [RunState: Int] {
        try read("count runs") { db in
            var counts: [RunState: Int] = [:]
            let rows = try backfillId.map {
                try Cached.rows(db, sql: "SELECT state, COUNT(*) FROM dag_runs WHERE backfill_id = ? GROUP BY state", arguments: [$0])
            } ?? Cached.rows(db, sql: "SELECT state, COUNT(*) FROM dag_runs GROUP BY state")
            for row in rows {
                if let state = RunState(rawValue: row[0]) { counts[state] = row[1] }
            }
            return counts
        }
    }

    public func updateRunState(dagId: String, runId: String, expecting: Set<RunState>, to state: RunState, at time: Date) throws -> Bool {
        var sql = "UPDATE dag_runs SET state = ?"
        if state == .running { sql += ", started_at = COALESCE(started_at, ?), ended_at = NULL" }
        else if state.isFinished { sql += ", ended_at = ?" }
        else { sql += ", ended_at = NULL, started_at = COALESCE(started_at, ?)" }
        sql += " WHERE dag_id = ? AND run_id = ? AND state IN (\(expecting.map { _ in "?" }.joined(separator: ",")))"
        var values: [(any DatabaseValueConvertible)?] = [state.rawValue, time.timeIntervalSince1970, dagId, runId] + expecting.map(\.rawValue)
        if state.isFinished {
            // A run only finishes when all its tasks have: a clear that lands between the scheduler's read and
            // this update leaves the run going, and the next pass sees the cleared tasks.
            let unfinished = TaskState.unfinished
            sql += " AND NOT EXISTS (SELECT 1 FROM task_instances WHERE dag_id = ? AND run_id = ? AND state IN ("
                + unfinished.map { _ in "?" }.joined(separator: ",") + "))"
            values += [dagId, runId] + unfinished.map(\.rawValue)
        }
        let arguments = StatementArguments(values)
        return try write("update run \(runId)") { db in
            try Cached.execute(db, sql: sql, arguments: arguments)
            return db.changesCount > 0
        }
    }

    public func latestLogicalDate(dagId: String, runType: RunType) throws -> Date? {
        try read("latest run") { db in
            try Cached.double(db, sql: "SELECT MAX(logical_date) FROM dag_runs WHERE dag_id = ? AND run_type = ?",
                                arguments: [dagId, runType.rawValue]).map(Date.init(timeIntervalSince1970:))
        }
    }

    public func previousRun(dagId: String, before logicalDate: Date) throws -> DagRun? {
        try read("previous run") { db in
            try Cached.row(db, sql: "SELECT \(Self.dagRunColumns) FROM dag_runs WHERE dag_id = ? AND logical_date < ? ORDER BY logical_date DESC LIMIT 1",
                             arguments: [dagId, logicalDate.timeIntervalSince1970]).map(Self.dagRun)
        }
    }

    // MARK: Task instances

    public func taskInstances(dagId: String, runId: String) throws -> [TaskInstance] {
        try read("list task instances") { db in
            try Cached.rows(db, sql: "SELECT \(Self.taskInstanceColumns) FROM task_instances WHERE dag_id = ? AND run_id = ? ORDER BY rowid",
                             arguments: [dagId, runId]).map(Self.taskInstance)
        }
    }

    public func taskInstance(_ key: TaskKey) throws -> TaskInstance? {
        try read("read task instance") { db in
            try Cached.row(db, sql: "SELECT \(Self.taskInstanceColumns) FROM task_instances WHERE dag_id = ? AND run_id = ? AND task_id = ?",
                             arguments: [key.dagId, key.runId, key.taskId]).map(Self.taskInstance)
        }
    }

    public func taskInstancesOfRunningRuns() throws -> [TaskInstance] {
        try read("list running task instances") { db in
            try Cached.rows(db, sql: """
                SELECT \(Self.taskInstanceColumns) FROM task_instances
                WHERE (dag_id, run_id) IN (SELECT dag_id, run_id FROM dag_runs WHERE state = 'running')
                ORDER BY rowid
                """).map(Self.taskInstance)
        }
    }

    public func taskInstances(states: Set<TaskState>) throws -> [TaskInstance] {
        let sql = "SELECT \(Self.taskInstanceColumns) FROM task_instances WHERE state IN (\(states.map { _ in "?" }.joined(separator: ",")))"
        let arguments = StatementArguments(states.map(\.rawValue))
        return try read("list task instances by state") { db in
            try Cached.rows(db, sql: sql, arguments: arguments).map(Self.taskInstance)
        }
    }

    public func taskInstances(dagId: String, runIds: [String]) throws -> [TaskInstance] {
        guard !runIds.isEmpty else { return [] }
        let sql = "SELECT \(Self.taskInstanceColumns) FROM task_instances WHERE dag_id = ? AND run_id IN (\(runIds.map { _ in "?" }.joined(separator: ",")))"
        let arguments = StatementArguments([dagId] + runIds)
        return try read("list task instances of runs") { db in
            try Row.fetchAll(db, sql: sql, arguments: arguments).map(Self.taskInstance)
        }
    }

    public func taskDurationHistogram(buckets: [Double]) throws -> [String: DurationHistogram] {
        // Durations of finished attempts (every try counts, as in a latency histogram), per DAG.
        let duration = "(ended_at - started_at)"
        let bucketColumns = buckets.map { ", SUM(\(duration) <= \($0))" }.joined()
        let sql = "SELECT dag_id, COUNT(*), TOTAL(\(duration))\(bucketColumns) FROM task_attempts "
            + "WHERE ended_at IS NOT NULL AND started_at IS NOT NULL GROUP BY dag_id"
        return try read("task durations") { db in
            var result: [String: DurationHistogram] = [:]
            for row in try Cached.rows(db, sql: sql) {
                result[row[0]] = DurationHistogram(bucketCounts: buckets.indices.map { (row[$0 + 3] as Int?) ?? 0 }, count: row[1], sum: row[2])
            }
            return result
        }
    }

    public func updateTaskInstance(_ key: TaskKey, expecting: Set<TaskState>, tryNumber: Int?, set fields: [TaskField]) throws -> Bool {
        guard !fields.isEmpty else { return false }
        let (sql, arguments) = Self.updateSQL(key, expecting: expecting, tryNumber: tryNumber, fields: fields)
        return try write("update task \(key)") { db in
            try Cached.execute(db, sql: sql, arguments: arguments)
            return db.changesCount > 0
        }
    }

    /// The compare-and-set UPDATE: assignments guarded by the expected states (and attempt).
    static func updateSQL(_ key: TaskKey, expecting: Set<TaskState>, tryNumber: Int?, fields: [TaskField]) -> (String, StatementArguments) {
        var assignments: [String] = []
        var arguments: [(any DatabaseValueConvertible)?] = []
        for field in fields {
            let (column, value) = column(for: field)
            assignments.append("\(column) = ?")
            arguments.append(value)
        }
        var sql = "UPDATE task_instances SET \(assignments.joined(separator: ", ")) WHERE dag_id = ? AND run_id = ? AND task_id = ?"
        arguments += [key.dagId, key.runId, key.taskId]
        sql += " AND state IN (\(expecting.map { _ in "?" }.joined(separator: ",")))"
        arguments += expecting.map(\.rawValue)
        if let tryNumber {
            sql += " AND try_number = ?"
            arguments.append(tryNumber)
        }
        return (sql, StatementArguments(arguments))
    }

    public func clearTaskInstances(dagId: String, runId: String, taskIds: Set<String>, extraTries: [String: Int],
                                   at time: Date) throws -> Int {
        try write("clear tasks of \(runId)") { db in
            var cleared = 0
            for taskId in taskIds.sorted() {
                let key = TaskKey(dagId: dagId, runId: runId, taskId: taskId)
                // Read and changed under this transaction's write lock, so the transition sees what it changes.
                guard let instance = try Cached.row(db, sql: "SELECT \(Self.taskInstanceColumns) FROM task_instances WHERE dag_id = ? AND run_id = ? AND task_id = ?",
                                                    arguments: [dagId, runId, taskId]).map(Self.taskInstance),
                      let transition = TaskInstanceTransition.cleared(instance, extraTries: extraTries[taskId] ?? 1) else { continue }
                if let open = transition.discardsOpenAttempt {
                    try Cached.execute(db, sql: """
                        DELETE FROM task_attempts WHERE dag_id = ? AND run_id = ? AND task_id = ? AND try_number = ? AND ended_at IS NULL
                        """, arguments: [dagId, runId, taskId, open])
                }
                let (sql, arguments) = Self.updateSQL(key, expecting: transition.expecting, tryNumber: transition.tryNumber, fields: transition.fields)
                try Cached.execute(db, sql: sql, arguments: arguments)
                cleared += db.changesCount
            }
            if cleared > 0 {
                try Cached.execute(db, sql: """
                    UPDATE dag_runs SET state = 'queued', ended_at = NULL WHERE dag_id = ? AND run_id = ? AND state IN ('success', 'failed')
                    """, arguments: [dagId, runId])
            }
            return cleared
        }
    }

    // MARK: Attempts

    public func recordAttempt(_ attempt: TaskAttempt) throws {
        try write("record attempt") { db in try Self.upsertAttempt(attempt, db) }
    }

    public func completeAttempt(_ attempt: TaskAttempt, set fields: [TaskField]) throws -> Bool {
        let (sql, arguments) = Self.updateSQL(attempt.key, expecting: [.running], tryNumber: attempt.tryNumber, fields: fields)
        return try write("complete attempt of \(attempt.key)") { db in
            try Cached.execute(db, sql: sql, arguments: arguments)
            guard db.changesCount > 0 else { return false }
            try Self.upsertAttempt(attempt, db)
            return true
        }
    }

    static func upsertAttempt(_ attempt: TaskAttempt, _ db: Database) throws {
            try Cached.execute(db, sql: """
                INSERT INTO task_attempts (dag_id, run_id, task_id, try_number, state, hostname, pid, started_at, ended_at,
                                           exit_code, signal, note)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT(dag_id, run_id, task_id, try_number) DO UPDATE SET state = excluded.state,
                    hostname = excluded.hostname, pid = excluded.pid, started_at = COALESCE(task_attempts.started_at, excluded.started_at),
                    ended_at = excluded.ended_at, exit_code = excluded.exit_code, signal = excluded.signal, note = excluded.note
                """, arguments: [
                    attempt.key.dagId, attempt.key.runId, attempt.key.taskId, attempt.tryNumber, attempt.state.rawValue,
                    attempt.hostname, attempt.pid, attempt.startedAt?.timeIntervalSince1970, attempt.endedAt?.timeIntervalSince1970,
                    attempt.exitCode, attempt.signal, attempt.note,
                ])
    }

    public func attempts(_ key: TaskKey) throws -> [TaskAttempt] {
        try read("list attempts") { db in
            try Cached.rows(db, sql: """
                SELECT * FROM task_attempts WHERE dag_id = ? AND run_id = ? AND task_id = ? ORDER BY try_number
                """, arguments: [key.dagId, key.runId, key.taskId]).map { row in
                TaskAttempt(
                    key: key, tryNumber: row["try_number"], state: TaskState(rawValue: row["state"]) ?? .failed,
                    hostname: row["hostname"], pid: row["pid"], startedAt: Self.date(row["started_at"]),
                    endedAt: Self.date(row["ended_at"]), exitCode: row["exit_code"], signal: row["signal"], note: row["note"])
            }
        }
    }

    // MARK: Pools

    public func pools() throws -> [String: Int] {
        try read("list pools") { db in
            Dictionary(try Cached.rows(db, sql: "SELECT name, slots FROM pools").map { ($0["name"], $0["slots"]) },
                       uniquingKeysWith: { a, _ in a })
        }
    }

    public func setPool(name: String, slots: Int) throws {
        try write("set pool") { db in
            try Cached.execute(db, sql: "INSERT INTO pools (name, slots) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET slots = excluded.slots",
                           arguments: [name, slots])
        }
    }

    public func deletePool(name: String) throws -> Bool {
        try write("delete pool") { db in
            try Cached.execute(db, sql: "DELETE FROM pools WHERE name = ?", arguments: [name])
            return db.changesCount > 0
        }
    }

    // MARK: Backfills

    public func createBackfill(dagId: String, start: Date, end: Date, maxActiveRuns: Int, at time: Date) throws -> Int64 {
        try write("create backfill") { db in
            try Cached.execute(db, sql: "INSERT INTO backfills (dag_id, start, end, max_active_runs, created_at) VALUES (?, ?, ?, ?, ?)",
                           arguments: [dagId, start.timeIntervalSince1970, end.timeIntervalSince1970, maxActiveRuns, time.timeIntervalSince1970])
            return db.lastInsertedRowID
        }
    }

    public func backfill(id: Int64) throws -> Backfill? {
        try read("read backfill") { db in
            try Cached.row(db, sql: "SELECT * FROM backfills WHERE id = ?", arguments: [id]).map(Self.backfill)
        }
    }

    public func backfills(dagId: String) throws -> [Backfill] {
        try read("list backfills") { db in
            try Cached.rows(db, sql: "SELECT * FROM backfills WHERE dag_id = ? ORDER BY id DESC", arguments: [dagId]).map(Self.backfill)
        }
    }

    static func backfill(_ row: Row) -> Backfill {
        Backfill(id: row["id"], dagId: row["dag_id"], start: Date(timeIntervalSince1970: row["start"]),
                 end: Date(timeIntervalSince1970: row["end"]), maxActiveRuns: row["max_active_runs"],
                 createdAt: Date(timeIntervalSince1970: row["created_at"]))
    }

    public func assignRuns(dagId: String, runIds: [String], toBackfill id: Int64) throws {
        try write("assign runs to backfill") { db in
            for runId in runIds {
                try Cached.execute(db, sql: "UPDATE dag_runs SET backfill_id = ? WHERE dag_id = ? AND run_id = ?", arguments: [id, dagId, runId])
            }
        }
    }

    // MARK: Notifications

    public func enqueueNotification(eventKey: String, target: String, payload: String, at time: Date) throws -> Bool {
        try write("queue notification") { db in
            try Cached.execute(db, sql: """
                INSERT INTO notifications (event_key, target, payload, next_attempt_at, created_at) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT DO NOTHING
                """, arguments: [eventKey, target, payload, time.timeIntervalSince1970, time.timeIntervalSince1970])
            return db.changesCount > 0
        }
    }

    public func dueNotifications(now: Date, limit: Int) throws -> [OutboxMessage] {
        try read("due notifications") { db in
            try Cached.rows(db, sql: """
                SELECT id, event_key, target, payload, attempts, last_error FROM notifications
                WHERE state = 'pending' AND next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT ?
                """, arguments: [now.timeIntervalSince1970, limit]).map {
                OutboxMessage(id: $0[0], eventKey: $0[1], target: $0[2], payload: $0[3], attempts: $0[4], lastError: $0[5])
            }
        }
    }

    public func recordNotificationAttempt(id: Int64, delivered: Bool, error: String?, nextAttemptAt: Date?, at time: Date) throws {
        let state = delivered ? "delivered" : (nextAttemptAt == nil ? "failed" : "pending")
        try write("record notification attempt") { db in
            try Cached.execute(db, sql: """
                UPDATE notifications SET state = ?, attempts = attempts + 1, last_error = ?, next_attempt_at = ?, updated_at = ?
                WHERE id = ?
                """, arguments: [state, error, nextAttemptAt?.timeIntervalSince1970, time.timeIntervalSince1970, id])
        }
    }

    public func nextNotificationAttempt() throws -> Date? {
        try read("next notification") { db in
            try Cached.double(db, sql: "SELECT MIN(next_attempt_at) FROM notifications WHERE state = 'pending'")
                .map(Date.init(timeIntervalSince1970:))
        }
    }

    public func notificationCounts() throws -> (pending: Int, delivered: Int, failed: Int) {
        try read("count notifications") { db in
            var counts = (pending: 0, delivered: 0, failed: 0)
            for row in try Cached.rows(db, sql: "SELECT state, COUNT(*) FROM notifications GROUP BY state") {
                let count: Int = row[1]
                switch row[0] as String {
                case "delivered": counts.delivered = count
                case "failed": counts.failed = count
                default: counts.pending = count
                }
            }
            return counts
        }
    }

    // MARK: SLAs

    public func recordSlaMiss(dagId: String, runId: String, taskId: String?, deadline: Date, at time: Date) throws -> Bool {
        try write("record SLA miss") { db in
            try Cached.execute(db, sql: """
                INSERT INTO sla_misses (dag_id, run_id, task_id, deadline, detected_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING
                """, arguments: [dagId, runId, taskId ?? "", deadline.timeIntervalSince1970, time.timeIntervalSince1970])
            return db.changesCount > 0
        }
    }

    public func slaMisses(dagId: String?) throws -> [SlaMiss] {
        try read("list SLA misses") { db in
            let rows = try Cached.rows(db, sql: """
                SELECT dag_id, run_id, task_id, deadline, detected_at FROM sla_misses WHERE (? IS NULL OR dag_id = ?)
                ORDER BY detected_at
                """, arguments: [dagId, dagId])
            return rows.map { row in
                let task: String = row[2]
                return SlaMiss(dagId: row[0], runId: row[1], taskId: task.isEmpty ? nil : task,
                               deadline: Date(timeIntervalSince1970: row[3]), detectedAt: Date(timeIntervalSince1970: row[4]))
            }
        }
    }
}
