import Foundation
import MetadataStore
import PostgresClient

extension PostgresMetadataStore {
    public func addTaskInstances(_ taskInstances: [TaskInstance]) throws -> Int {
        try write("add task instances") { db throws(PostgresError) in
            var added = 0
            for ti in taskInstances { added += try Self.insert(ti, db, ifMissing: true) }
            return added
        }
    }

    public func taskInstances(dagId: String, runId: String) throws -> [TaskInstance] {
        try read("list task instances") { db throws(PostgresError) in
            try db.query("SELECT \(Self.taskInstanceColumns) FROM task_instances WHERE dag_id = $1 AND run_id = $2 ORDER BY seq",
                         [dagId, runId]).map(Self.taskInstance)
        }
    }

    public func taskInstance(_ key: TaskKey) throws -> TaskInstance? {
        try read("read task instance") { db throws(PostgresError) in
            try db.query("SELECT \(Self.taskInstanceColumns) FROM task_instances WHERE dag_id = $1 AND run_id = $2 AND task_id = $3",
                         [key.dagId, key.runId, key.taskId]).first.map(Self.taskInstance)
        }
    }

    public func taskInstancesOfRunningRuns() throws -> [TaskInstance] {
        try read("list running task instances") { db throws(PostgresError) in
            try db.query("""
                SELECT \(Self.taskInstanceColumns) FROM task_instances
                WHERE (dag_id, run_id) IN (SELECT dag_id, run_id FROM dag_runs WHERE state = 'running')
                ORDER BY seq
                """).map(Self.taskInstance)
        }
    }

    public func taskInstances(states: Set<TaskState>) throws -> [TaskInstance] {
        try read("list task instances by state") { db throws(PostgresError) in
            try db.query("SELECT \(Self.taskInstanceColumns) FROM task_instances WHERE state = ANY($1::text[]) ORDER BY seq",
                         [Self.states(states)]).map(Self.taskInstance)
        }
    }

    public func taskInstances(dagId: String, runIds: [String]) throws -> [TaskInstance] {
        guard !runIds.isEmpty else { return [] }
        return try read("list task instances of runs") { db throws(PostgresError) in
            try db.query("SELECT \(Self.taskInstanceColumns) FROM task_instances WHERE dag_id = $1 AND run_id = ANY($2::text[]) ORDER BY seq",
                         [dagId, Self.array(runIds)]).map(Self.taskInstance)
        }
    }

    public func updateTaskInstance(_ key: TaskKey, expecting: Set<TaskState>, tryNumber: Int?, set fields: [TaskField]) throws -> Bool {
        guard !fields.isEmpty else { return false }
        let (sql, parameters) = Self.updateSQL(key, expecting: expecting, tryNumber: tryNumber, fields: fields)
        return try write("update task \(key)", singleStatement: true) { db throws(PostgresError) in try db.query(sql, parameters).affectedRows > 0 }
    }

    /// The compare-and-set UPDATE: assignments guarded by the expected states (and attempt). Its row count says who won.
    static func updateSQL(_ key: TaskKey, expecting: Set<TaskState>, tryNumber: Int?, fields: [TaskField]) -> (String, [PostgresValue?]) {
        var assignments: [String] = []
        var parameters: [PostgresValue?] = []
        for field in fields {
            let (column, value) = column(for: field)
            parameters.append(value)
            assignments.append("\(column) = $\(parameters.count)")
        }
        let first = parameters.count
        var sql = "UPDATE task_instances SET \(assignments.joined(separator: ", ")) WHERE dag_id = $\(first + 1) AND run_id = $\(first + 2)"
            + " AND task_id = $\(first + 3) AND state = ANY($\(first + 4)::text[])"
        parameters += [key.dagId, key.runId, key.taskId, states(expecting)]
        if let tryNumber {
            parameters.append(tryNumber)
            sql += " AND try_number = $\(parameters.count)"
        }
        return (sql, parameters)
    }

    public func clearTaskInstances(dagId: String, runId: String, taskIds: Set<String>, extraTries: [String: Int],
                                   at time: Date) throws -> Int {
        try write("clear tasks of \(runId)") { db throws(PostgresError) in
            // The run row is locked first, as a run finishing locks it: the two serialize, so a run cannot finish on a
            // read of its tasks taken before this clear committed.
            try db.query("SELECT 1 FROM dag_runs WHERE dag_id = $1 AND run_id = $2 FOR UPDATE", [dagId, runId])
            var cleared = 0
            for taskId in taskIds.sorted() {
                let key = TaskKey(dagId: dagId, runId: runId, taskId: taskId)
                // Read under this transaction, with the row locked, so the transition sees what it changes.
                guard let instance = try db.query("""
                    SELECT \(Self.taskInstanceColumns) FROM task_instances WHERE dag_id = $1 AND run_id = $2 AND task_id = $3 FOR UPDATE
                    """, [dagId, runId, taskId]).first.map(Self.taskInstance),
                      let transition = TaskInstanceTransition.cleared(instance, extraTries: extraTries[taskId] ?? 1) else { continue }
                if let open = transition.discardsOpenAttempt {
                    try db.query("""
                        DELETE FROM task_attempts WHERE dag_id = $1 AND run_id = $2 AND task_id = $3 AND try_number = $4 AND ended_at IS NULL
                        """, [dagId, runId, taskId, open])
                }
                let (sql, parameters) = Self.updateSQL(key, expecting: transition.expecting, tryNumber: transition.tryNumber,
                                                       fields: transition.fields)
                cleared += try db.query(sql, parameters).affectedRows
            }
            if cleared > 0 {
                try db.query("""
                    UPDATE dag_runs SET state = 'queued', ended_at = NULL WHERE dag_id = $1 AND run_id = $2 AND state IN ('success', 'failed')
                    """, [dagId, runId])
            }
            return cleared
        }
    }

    // MARK: Attempts

    public func recordAttempt(_ attempt: TaskAttempt) throws {
        try write("record attempt", singleStatement: true) { db throws(PostgresError) in try Self.upsertAttempt(attempt, db) }
    }

    public func completeAttempt(_ attempt: TaskAttempt, set fields: [TaskField]) throws -> Bool {
        let (sql, parameters) = Self.updateSQL(attempt.key, expecting: [.running], tryNumber: attempt.tryNumber, fields: fields)
        return try write("complete attempt of \(attempt.key)") { db throws(PostgresError) in
            guard try db.query(sql, parameters).affectedRows > 0 else { return false }
            try Self.upsertAttempt(attempt, db)
            return true
        }
    }

    /// A later write of the same try keeps the start first recorded (a sensor's attempt starts at its first poke).
    static func upsertAttempt(_ attempt: TaskAttempt, _ db: PostgresConnection) throws(PostgresError) {
        try db.query("""
            INSERT INTO task_attempts (dag_id, run_id, task_id, try_number, state, hostname, pid, started_at, ended_at,
                                       exit_code, signal, note)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
            ON CONFLICT (dag_id, run_id, task_id, try_number) DO UPDATE SET state = excluded.state,
                hostname = excluded.hostname, pid = excluded.pid, started_at = COALESCE(task_attempts.started_at, excluded.started_at),
                ended_at = excluded.ended_at, exit_code = excluded.exit_code, signal = excluded.signal, note = excluded.note
            """, [
                attempt.key.dagId, attempt.key.runId, attempt.key.taskId, attempt.tryNumber, attempt.state.rawValue,
                attempt.hostname, attempt.pid, seconds(attempt.startedAt), seconds(attempt.endedAt),
                attempt.exitCode, attempt.signal, attempt.note,
            ])
    }

    public func attempts(_ key: TaskKey) throws -> [TaskAttempt] {
        try read("list attempts") { db throws(PostgresError) in
            try db.query("SELECT \(Self.attemptColumns) FROM task_attempts WHERE dag_id = $1 AND run_id = $2 AND task_id = $3 ORDER BY try_number",
                         [key.dagId, key.runId, key.taskId]).map { Self.attempt($0, key: key) }
        }
    }

    public func taskDurationHistogram(buckets: [Double]) throws -> [String: DurationHistogram] {
        // Durations of finished attempts (every try counts, as in a latency histogram), per DAG. The bounds are numbers
        // this code formats, never input, so they are written into the statement.
        let duration = "(ended_at - started_at)"
        let bucketColumns = buckets.map { ", COUNT(*) FILTER (WHERE \(duration) <= '\($0.postgresText)'::double precision)" }.joined()
        let sql = "SELECT dag_id, COUNT(*), COALESCE(SUM(\(duration)), 0)\(bucketColumns) FROM task_attempts "
            + "WHERE ended_at IS NOT NULL AND started_at IS NOT NULL GROUP BY dag_id"
        return try read("task durations") { db throws(PostgresError) in
            var result: [String: DurationHistogram] = [:]
            for row in try db.query(sql) {
                result[row.string(0) ?? ""] = DurationHistogram(bucketCounts: buckets.indices.map { row.int($0 + 3) ?? 0 },
                                                                count: row.int(1) ?? 0, sum: row.double(2) ?? 0)
            }
            return result
        }
    }
}
