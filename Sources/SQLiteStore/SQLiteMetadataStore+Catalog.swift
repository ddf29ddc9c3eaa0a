import Foundation
import GRDB
import MetadataStore

/// PoolStore, BackfillStore and SlaStore on SQLite.
extension SQLiteMetadataStore {
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
