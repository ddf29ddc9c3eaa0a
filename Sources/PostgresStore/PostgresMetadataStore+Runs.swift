import Foundation
import MetadataStore
import PostgresClient

extension PostgresMetadataStore {
    // MARK: DAGs

    public func syncDags(_ dags: [(dagId: String, fileLocation: String)], importErrors: [String: String], at time: Date) throws {
        let now = time.timeIntervalSince1970
        try write("sync dags") { db throws(PostgresError) in
            try db.query("UPDATE dags SET is_active = false")
            for dag in dags {
                try db.query("""
                    INSERT INTO dags (dag_id, is_paused, file_location, is_active, updated_at) VALUES ($1, false, $2, true, $3)
                    ON CONFLICT (dag_id) DO UPDATE SET file_location = excluded.file_location, is_active = true, updated_at = excluded.updated_at
                    """, [dag.dagId, dag.fileLocation, now])
            }
            try db.query("DELETE FROM import_errors")
            for (file, message) in importErrors {
                try db.query("INSERT INTO import_errors (file, message, updated_at) VALUES ($1, $2, $3)", [file, message, now])
            }
        }
    }

    public func registerDag(dagId: String, fileLocation: String, at time: Date) throws {
        try write("register dag", singleStatement: true) { db throws(PostgresError) in
            try db.query("""
                INSERT INTO dags (dag_id, is_paused, file_location, is_active, updated_at) VALUES ($1, false, $2, true, $3)
                ON CONFLICT (dag_id) DO UPDATE SET file_location = excluded.file_location, is_active = true
                """, [dagId, fileLocation, time.timeIntervalSince1970])
        }
    }

    public func dags() throws -> [DagRecord] {
        try read("list dags") { db throws(PostgresError) in
            try db.query("SELECT dag_id, is_paused, file_location FROM dags WHERE is_active ORDER BY dag_id").map {
                DagRecord(dagId: $0.string(0) ?? "", isPaused: $0.bool(1) ?? false, fileLocation: $0.string(2))
            }
        }
    }

    public func setPaused(dagId: String, paused: Bool) throws -> Bool {
        try write("pause dag", singleStatement: true) { db throws(PostgresError) in
            try db.query("UPDATE dags SET is_paused = $1 WHERE dag_id = $2", [paused, dagId]).affectedRows > 0
        }
    }

    public func importErrors() throws -> [String: String] {
        try read("list import errors") { db throws(PostgresError) in
            Dictionary(try db.query("SELECT file, message FROM import_errors").map { ($0.string(0) ?? "", $0.string(1) ?? "") },
                       uniquingKeysWith: { a, _ in a })
        }
    }

    // MARK: Runs

    public func createRun(_ run: DagRun, taskInstances: [TaskInstance]) throws -> Bool {
        try write("create run \(run.runId)") { db throws(PostgresError) in
            let inserted = try db.query("""
                INSERT INTO dag_runs (dag_id, run_id, logical_date, data_interval_start, data_interval_end, run_type, state,
                                      params, backfill_id, created_at, started_at, ended_at)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) ON CONFLICT DO NOTHING
                """, [
                    run.dagId, run.runId, run.logicalDate.timeIntervalSince1970, run.dataIntervalStart.timeIntervalSince1970,
                    run.dataIntervalEnd.timeIntervalSince1970, run.runType.rawValue, run.state.rawValue, run.paramsJSON,
                    run.backfillId, run.createdAt.timeIntervalSince1970, Self.seconds(run.startedAt), Self.seconds(run.endedAt),
                ])
            guard inserted.affectedRows > 0 else { return false }
            for ti in taskInstances { try Self.insert(ti, db, ifMissing: false) }
            return true
        }
    }

    @discardableResult
    static func insert(_ ti: TaskInstance, _ db: PostgresConnection, ifMissing: Bool) throws(PostgresError) -> Int {
        try db.query("""
            INSERT INTO task_instances (dag_id, run_id, task_id, state, try_number, max_tries, pool, priority_weight)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
            """ + (ifMissing ? " ON CONFLICT DO NOTHING" : ""),
            [ti.key.dagId, ti.key.runId, ti.key.taskId, ti.state.rawValue, ti.tryNumber, ti.maxTries, ti.pool, ti.priorityWeight]).affectedRows
    }

    public func run(dagId: String, runId: String) throws -> DagRun? {
        try read("read run") { db throws(PostgresError) in
            try db.query("SELECT \(Self.dagRunColumns) FROM dag_runs WHERE dag_id = $1 AND run_id = $2", [dagId, runId]).first.map(Self.dagRun)
        }
    }

    public func run(dagId: String, logicalDate: Date) throws -> DagRun? {
        try read("read run") { db throws(PostgresError) in
            try db.query("SELECT \(Self.dagRunColumns) FROM dag_runs WHERE dag_id = $1 AND logical_date = $2",
                         [dagId, logicalDate.timeIntervalSince1970]).first.map(Self.dagRun)
        }
    }

    public func runs(_ filter: RunFilter) throws -> [DagRun] {
        var clauses: [String] = []
        var parameters: [PostgresValue?] = []
        func bind(_ value: PostgresValue) -> String { parameters.append(value); return "$\(parameters.count)" }
        if let dagId = filter.dagId { clauses.append("dag_id = \(bind(dagId))") }
        if let states = filter.states { clauses.append("state = ANY(\(bind(Self.array(states.map(\.rawValue))))::text[])") }
        if let id = filter.backfillId { clauses.append("backfill_id = \(bind(id))") }
        if let from = filter.logicalDateFrom { clauses.append("logical_date >= \(bind(from.timeIntervalSince1970))") }
        if let through = filter.logicalDateThrough { clauses.append("logical_date <= \(bind(through.timeIntervalSince1970))") }
        var sql = "SELECT \(Self.dagRunColumns) FROM dag_runs"
        if !clauses.isEmpty { sql += " WHERE " + clauses.joined(separator: " AND ") }
        sql += filter.newestFirst ? " ORDER BY logical_date DESC, dag_id" : " ORDER BY logical_date, dag_id"
        if let limit = filter.limit { sql += " LIMIT \(bind(max(0, limit)))::bigint" }
        if filter.offset > 0 { sql += " OFFSET \(bind(filter.offset))::bigint" }
        let statement = sql, values = parameters
        return try read("list runs") { db throws(PostgresError) in try db.query(statement, values).map(Self.dagRun) }
    }

    public func runCountsByState(backfillId: Int64?) throws -> [RunState: Int] {
        try read("count runs") { db throws(PostgresError) in
            var counts: [RunState: Int] = [:]
            let rows = if let backfillId {
                try db.query("SELECT state, COUNT(*) FROM dag_runs WHERE backfill_id = $1 GROUP BY state", [backfillId])
            } else {
                try db.query("SELECT state, COUNT(*) FROM dag_runs GROUP BY state")
            }
            for row in rows {
                if let state = row.string(0).flatMap(RunState.init(rawValue:)) { counts[state] = row.int(1) ?? 0 }
            }
            return counts
        }
    }

    public func updateRunState(dagId: String, runId: String, expecting: Set<RunState>, to state: RunState, at time: Date) throws -> Bool {
        var sql = "UPDATE dag_runs SET state = $1"
        if state == .running { sql += ", started_at = COALESCE(started_at, $2), ended_at = NULL" }
        else if state.isFinished { sql += ", ended_at = $2" }
        else { sql += ", ended_at = NULL, started_at = COALESCE(started_at, $2)" }
        sql += " WHERE dag_id = $3 AND run_id = $4 AND state = ANY($5::text[])"
        if state.isFinished {
            // A run only finishes when all its tasks have. The run row is locked first (as a clear locks it), so this
            // check reads the task instances after any clear of this run has committed.
            sql += " AND NOT EXISTS (SELECT 1 FROM task_instances WHERE dag_id = $3 AND run_id = $4 AND state = ANY($6::text[]))"
        }
        var parameters: [PostgresValue?] = [state.rawValue, time.timeIntervalSince1970, dagId, runId, Self.array(expecting.map(\.rawValue))]
        if state.isFinished { parameters.append(Self.states(TaskState.unfinished)) }
        let statement = sql, values = parameters
        return try write("update run \(runId)", singleStatement: !state.isFinished) { db throws(PostgresError) in
            if state.isFinished { try db.query("SELECT 1 FROM dag_runs WHERE dag_id = $1 AND run_id = $2 FOR UPDATE", [dagId, runId]) }
            return try db.query(statement, values).affectedRows > 0
        }
    }

    public func latestLogicalDate(dagId: String, runType: RunType) throws -> Date? {
        try read("latest run") { db throws(PostgresError) in
            Self.date(try db.query("SELECT MAX(logical_date) FROM dag_runs WHERE dag_id = $1 AND run_type = $2", [dagId, runType.rawValue])
                .first?.double(0))
        }
    }

    public func previousRun(dagId: String, before logicalDate: Date) throws -> DagRun? {
        try read("previous run") { db throws(PostgresError) in
            try db.query("SELECT \(Self.dagRunColumns) FROM dag_runs WHERE dag_id = $1 AND logical_date < $2 ORDER BY logical_date DESC LIMIT 1",
                         [dagId, logicalDate.timeIntervalSince1970]).first.map(Self.dagRun)
        }
    }
}
