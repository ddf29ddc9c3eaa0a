import Foundation
import GRDB
import MetadataStore

/// RunStore on SQLite.
extension SQLiteMetadataStore {
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
}
