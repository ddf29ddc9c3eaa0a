import Foundation
import GRDB
import MetadataStore

/// TaskAttemptStore on SQLite.
extension SQLiteMetadataStore {
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
}
