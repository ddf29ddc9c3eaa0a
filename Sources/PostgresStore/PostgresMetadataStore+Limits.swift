import Foundation
import MetadataStore
import PostgresClient

/// Claims that hold the limits on PostgreSQL, at READ COMMITTED. Each claim first takes the locks of what it counts,
/// always in the same order, in one statement (the DAG's and the node's advisory transaction locks, the pool's row),
/// then counts, then updates. A claim waiting for a lock counts only after the holder committed, and each statement at
/// READ COMMITTED reads what was committed before it began, so it sees every claim that got in first. A dispatch claim
/// does all three in one round trip: the locks and the count run in `orchestrator_dispatch_verdict` (migration
/// v6-dispatch-claims), whose statements each take a fresh snapshot, and the compare-and-set follows in the same statement.
extension PostgresMetadataStore {
    /// The two-key advisory lock space (apart from the scheduler lease's one-key space): which kind of thing is locked.
    enum LimitLock: Int32 {
        case dagTasks = 0x6f72_0001
        case nodeTasks = 0x6f72_0002
        case dagRuns = 0x6f72_0003
    }

    public func claimForDispatch(_ instance: TaskInstance, limits: DispatchLimits, at time: Date) throws -> DispatchClaim {
        let transition = TaskInstanceTransition.claimed(instance, hostname: limits.node, at: time)
        let (sql, parameters) = Self.claimSQL(instance, limits: limits, transition: transition)
        // One statement is a transaction by itself; the connection pins READ COMMITTED, which the function checks.
        return try write("claim task \(instance.key)", singleStatement: true) { db throws(PostgresError) in
            let row = try db.query(sql, parameters).first
            switch row?.string(0) {
            case "claimable": return (row?.int(1) ?? 0) > 0 ? .claimed : .movedOn
            case "pool_full": return .poolFull
            case "dag_full": return .dagFull
            case "node_full": return .nodeFull
            case "unknown_pool": return .unknownPool
            default:
                throw PostgresError(kind: .permanent, url: location, operation: "claim task \(instance.key)",
                                    message: "unexpected verdict \(row?.string(0) ?? "none") from orchestrator_dispatch_verdict")
            }
        }
    }

    /// The claim in one statement: the verdict of the limits (locks taken, then counted), and the compare-and-set
    /// UPDATE of the transition, which runs only on a `claimable` verdict. The UPDATE reads with the statement's
    /// snapshot, older than the locks, but a row another claim changed meanwhile is re-checked on its latest version
    /// (READ COMMITTED), so a lost race is still `movedOn`.
    static func claimSQL(_ instance: TaskInstance, limits: DispatchLimits,
                         transition: TaskInstanceTransition) -> (String, [PostgresValue?]) {
        var (update, parameters) = updateSQL(instance.key, expecting: transition.expecting, tryNumber: transition.tryNumber,
                                             fields: transition.fields)
        let first = parameters.count
        parameters += [instance.pool, LimitLock.dagTasks.rawValue, instance.key.dagId, LimitLock.nodeTasks.rawValue, limits.node,
                       limits.maxActiveTasks, limits.parallelism]
        let verdict = (1...7).map { "$\(first + $0)" }.joined(separator: ", ")
        update += " AND (SELECT verdict FROM verdict) = 'claimable' RETURNING 1"
        return ("""
            WITH verdict AS (SELECT orchestrator_dispatch_verdict(\(verdict)) AS verdict),
            claimed AS (\(update))
            SELECT verdict, (SELECT COUNT(*) FROM claimed) FROM verdict
            """, parameters)
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
