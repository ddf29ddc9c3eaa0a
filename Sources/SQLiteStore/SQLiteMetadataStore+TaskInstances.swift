import Foundation
import GRDB
import MetadataStore

/// TaskInstanceStore on SQLite.
extension SQLiteMetadataStore {
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
}
