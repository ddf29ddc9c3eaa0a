import Foundation
import GRDB
import MetadataStore

/// Claims that hold the limits on SQLite: each is one BEGIN IMMEDIATE transaction, which takes the database's write
/// lock before its first read, so the counts it reads cannot change before its compare-and-set commits.
extension SQLiteMetadataStore {
    public func claimForDispatch(_ instance: TaskInstance, limits: DispatchLimits, at time: Date) throws -> DispatchClaim {
        let transition = TaskInstanceTransition.claimed(instance, hostname: limits.node, at: time)
        let (sql, arguments) = Self.updateSQL(instance.key, expecting: transition.expecting, tryNumber: transition.tryNumber,
                                              fields: transition.fields)
        return try write("claim task \(instance.key)") { db in
            guard let slots = try Cached.double(db, sql: "SELECT slots FROM pools WHERE name = ?", arguments: [instance.pool]) else {
                return .unknownPool
            }
            let counts = try Cached.row(db, sql: """
                SELECT COALESCE(SUM(pool = ?), 0), COALESCE(SUM(dag_id = ?), 0), COALESCE(SUM(hostname = ?), 0)
                FROM task_instances WHERE state IN ('queued', 'running')
                """, arguments: [instance.pool, instance.key.dagId, limits.node])
            let inPool: Int = counts?[0] ?? 0, inDag: Int = counts?[1] ?? 0, onNode: Int = counts?[2] ?? 0
            if inPool >= Int(slots) { return .poolFull }
            if inDag >= limits.maxActiveTasks { return .dagFull }
            if onNode >= limits.parallelism { return .nodeFull }
            try Cached.execute(db, sql: sql, arguments: arguments)
            return db.changesCount > 0 ? .claimed : .movedOn
        }
    }

    public func startRun(dagId: String, runId: String, maxActiveRuns: Int, at time: Date) throws -> RunStart {
        try write("start run \(runId)") { db in
            guard let run = try Cached.row(db, sql: "SELECT state, backfill_id FROM dag_runs WHERE dag_id = ? AND run_id = ?",
                                           arguments: [dagId, runId]),
                  (run[0] as String?) == RunState.queued.rawValue else { return .movedOn }
            let active: Int
            let limit: Int
            if let backfillId: Int64 = run[1] {
                // Saturating: a stored limit beyond Int's range must not trap on every pass.
                limit = try Cached.double(db, sql: "SELECT max_active_runs FROM backfills WHERE id = ?", arguments: [backfillId])
                    .map { $0 < 9.0e18 ? Int($0) : Int.max } ?? maxActiveRuns
                active = try Cached.double(db, sql: "SELECT COUNT(*) FROM dag_runs WHERE backfill_id = ? AND state = 'running'",
                                           arguments: [backfillId]).map { Int($0) } ?? 0
            } else {
                limit = maxActiveRuns
                active = try Cached.double(db, sql: """
                    SELECT COUNT(*) FROM dag_runs WHERE dag_id = ? AND backfill_id IS NULL AND state = 'running'
                    """, arguments: [dagId]).map { Int($0) } ?? 0
            }
            guard active < limit else { return .atLimit }
            try Cached.execute(db, sql: """
                UPDATE dag_runs SET state = 'running', started_at = COALESCE(started_at, ?), ended_at = NULL
                WHERE dag_id = ? AND run_id = ? AND state = 'queued'
                """, arguments: [time.timeIntervalSince1970, dagId, runId])
            return db.changesCount > 0 ? .started : .movedOn
        }
    }
}
