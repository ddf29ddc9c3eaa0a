import Foundation
import MetadataStore
import PostgresClient

/// Claims that hold the limits on PostgreSQL, at READ COMMITTED. Each claim first takes the locks of what it counts,
/// always in the same order, in one statement (the DAG's and the node's advisory transaction locks, the pool's row),
/// then counts and updates in the statements after it. A claim waiting for a lock counts only after the holder committed, and each statement at READ
/// COMMITTED reads what was committed before it began, so it sees every claim that got in first.
extension PostgresMetadataStore {
    /// The two-key advisory lock space (apart from the scheduler lease's one-key space): which kind of thing is locked.
    enum LimitLock: Int32 {
        case dagTasks = 0x6f72_0001
        case nodeTasks = 0x6f72_0002
        case dagRuns = 0x6f72_0003
    }

    public func claimForDispatch(_ instance: TaskInstance, limits: DispatchLimits, at time: Date) throws -> DispatchClaim {
        let transition = TaskInstanceTransition.claimed(instance, hostname: limits.node, at: time)
        let (sql, parameters) = Self.updateSQL(instance.key, expecting: transition.expecting, tryNumber: transition.tryNumber,
                                               fields: transition.fields)
        return try write("claim task \(instance.key)") { db throws(PostgresError) in
            // One round trip for the three locks; every claim takes them in this one statement's order.
            guard let slots = try db.query("""
                SELECT slots, pg_advisory_xact_lock($2, hashtext($3)), pg_advisory_xact_lock($4, hashtext($5))
                FROM pools WHERE name = $1 FOR UPDATE
                """, [instance.pool, LimitLock.dagTasks.rawValue, instance.key.dagId, LimitLock.nodeTasks.rawValue, limits.node])
                .first?.int(0) else { return .unknownPool }
            let counts = try db.query("""
                SELECT COUNT(*) FILTER (WHERE pool = $1), COUNT(*) FILTER (WHERE dag_id = $2), COUNT(*) FILTER (WHERE hostname = $3)
                FROM task_instances WHERE state IN ('queued', 'running')
                """, [instance.pool, instance.key.dagId, limits.node]).first
            if counts?.int(0) ?? 0 >= slots { return .poolFull }
            if counts?.int(1) ?? 0 >= limits.maxActiveTasks { return .dagFull }
            if counts?.int(2) ?? 0 >= limits.parallelism { return .nodeFull }
            return try db.query(sql, parameters).affectedRows > 0 ? .claimed : .movedOn
        }
    }

    public func startRun(dagId: String, runId: String, maxActiveRuns: Int, at time: Date) throws -> RunStart {
        try write("start run \(runId)") { db throws(PostgresError) in
            // One lock per DAG covers its own runs and its backfills' runs alike.
            try db.query("SELECT pg_advisory_xact_lock($1, hashtext($2))", [LimitLock.dagRuns.rawValue, dagId])
            guard let run = try db.query("SELECT state, backfill_id FROM dag_runs WHERE dag_id = $1 AND run_id = $2", [dagId, runId]).first,
                  run.string(0) == RunState.queued.rawValue else { return .movedOn }
            let active: Int
            let limit: Int
            if let backfillId = run.int64(1) {
                limit = try db.query("SELECT max_active_runs FROM backfills WHERE id = $1", [backfillId]).first?.int(0) ?? maxActiveRuns
                active = try db.query("SELECT COUNT(*) FROM dag_runs WHERE backfill_id = $1 AND state = 'running'", [backfillId])
                    .first?.int(0) ?? 0
            } else {
                limit = maxActiveRuns
                active = try db.query("SELECT COUNT(*) FROM dag_runs WHERE dag_id = $1 AND backfill_id IS NULL AND state = 'running'",
                                      [dagId]).first?.int(0) ?? 0
            }
            guard active < limit else { return .atLimit }
            let updated = try db.query("""
                UPDATE dag_runs SET state = 'running', started_at = COALESCE(started_at, $1), ended_at = NULL
                WHERE dag_id = $2 AND run_id = $3 AND state = 'queued'
                """, [time.timeIntervalSince1970, dagId, runId]).affectedRows
            return updated > 0 ? .started : .movedOn
        }
    }
}
