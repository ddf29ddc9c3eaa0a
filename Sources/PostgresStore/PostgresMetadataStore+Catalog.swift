import Foundation
import MetadataStore
import PostgresClient

/// Pools, the notification outbox, SLA misses and backfills.
extension PostgresMetadataStore {
    // MARK: Pools

    public func pools() throws -> [String: Int] {
        try read("list pools") { db throws(PostgresError) in
            Dictionary(try db.query("SELECT name, slots FROM pools").map { ($0.string(0) ?? "", $0.int(1) ?? 0) }, uniquingKeysWith: { a, _ in a })
        }
    }

    public func setPool(name: String, slots: Int) throws {
        try write("set pool", singleStatement: true) { db throws(PostgresError) in
            try db.query("INSERT INTO pools (name, slots) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET slots = excluded.slots", [name, slots])
        }
    }

    public func deletePool(name: String) throws -> Bool {
        try write("delete pool", singleStatement: true) { db throws(PostgresError) in try db.query("DELETE FROM pools WHERE name = $1", [name]).affectedRows > 0 }
    }

    // MARK: Backfills

    public func createBackfill(dagId: String, start: Date, end: Date, maxActiveRuns: Int, at time: Date) throws -> Int64 {
        try write("create backfill", singleStatement: true) { db throws(PostgresError) in
            try db.query("""
                INSERT INTO backfills (dag_id, start, "end", max_active_runs, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id
                """, [dagId, start.timeIntervalSince1970, end.timeIntervalSince1970, maxActiveRuns, time.timeIntervalSince1970])
                .first?.int64(0) ?? 0
        }
    }

    static let backfillColumns = #"id, dag_id, start, "end", max_active_runs, created_at"#

    public func backfill(id: Int64) throws -> Backfill? {
        try read("read backfill") { db throws(PostgresError) in
            try db.query("SELECT \(Self.backfillColumns) FROM backfills WHERE id = $1", [id]).first.map(Self.backfill)
        }
    }

    public func backfills(dagId: String) throws -> [Backfill] {
        try read("list backfills") { db throws(PostgresError) in
            try db.query("SELECT \(Self.backfillColumns) FROM backfills WHERE dag_id = $1 ORDER BY id DESC", [dagId]).map(Self.backfill)
        }
    }

    public func assignRuns(dagId: String, runIds: [String], toBackfill id: Int64) throws {
        try write("assign runs to backfill", singleStatement: true) { db throws(PostgresError) in
            try db.query("UPDATE dag_runs SET backfill_id = $1 WHERE dag_id = $2 AND run_id = ANY($3::text[])", [id, dagId, Self.array(runIds)])
        }
    }

    // MARK: Notifications

    public func enqueueNotification(eventKey: String, target: String, payload: String, at time: Date) throws -> Bool {
        try write("queue notification", singleStatement: true) { db throws(PostgresError) in
            try db.query("""
                INSERT INTO notifications (event_key, target, payload, next_attempt_at, created_at) VALUES ($1, $2, $3, $4, $4)
                ON CONFLICT DO NOTHING
                """, [eventKey, target, payload, time.timeIntervalSince1970]).affectedRows > 0
        }
    }

    /// One statement: the due rows are locked `FOR UPDATE SKIP LOCKED`, so a concurrent claim skips them rather
    /// than waits, and one that read them before this committed re-checks them at READ COMMITTED and finds them leased.
    public func claimDueNotifications(now: Date, leaseUntil: Date, limit: Int) throws -> [OutboxMessage] {
        try write("claim notifications", singleStatement: true) { db throws(PostgresError) in
            try db.query("""
                UPDATE notifications n SET attempts = n.attempts + 1, next_attempt_at = $2, updated_at = $1
                FROM (SELECT id FROM notifications WHERE state = 'pending' AND next_attempt_at <= $1
                      ORDER BY next_attempt_at, id LIMIT $3::bigint FOR UPDATE SKIP LOCKED) due
                WHERE n.id = due.id
                RETURNING n.id, n.event_key, n.target, n.payload, n.attempts, n.last_error, n.created_at
                """, [now.timeIntervalSince1970, leaseUntil.timeIntervalSince1970, limit]).map { row in
                (row.double(6) ?? 0, OutboxMessage(id: row.int64(0) ?? 0, eventKey: row.string(1) ?? "", target: row.string(2) ?? "",
                                                   payload: row.string(3) ?? "", attempts: row.int(4) ?? 0, lastError: row.string(5)))
            }
            // RETURNING keeps no order: oldest first, as SQLite's.
            .sorted { ($0.0, $0.1.id) < ($1.0, $1.1.id) }.map(\.1)
        }
    }

    public func recordNotificationAttempt(id: Int64, attempt: Int, delivered: Bool, error: String?, nextAttemptAt: Date?,
                                          at time: Date) throws -> Bool {
        let state = delivered ? "delivered" : (nextAttemptAt == nil ? "failed" : "pending")
        return try write("record notification attempt", singleStatement: true) { db throws(PostgresError) in
            try db.query("""
                UPDATE notifications SET state = $1, last_error = $2, next_attempt_at = $3, updated_at = $4
                WHERE id = $5 AND state = 'pending' AND attempts = $6
                """, [state, error, Self.seconds(nextAttemptAt), time.timeIntervalSince1970, id, attempt]).affectedRows > 0
        }
    }

    public func nextNotificationAttempt() throws -> Date? {
        try read("next notification") { db throws(PostgresError) in
            Self.date(try db.query("SELECT MIN(next_attempt_at) FROM notifications WHERE state = 'pending'").first?.double(0))
        }
    }

    public func notificationCounts() throws -> (pending: Int, delivered: Int, failed: Int) {
        try read("count notifications") { db throws(PostgresError) in
            var counts = (pending: 0, delivered: 0, failed: 0)
            for row in try db.query("SELECT state, COUNT(*) FROM notifications GROUP BY state") {
                let count = row.int(1) ?? 0
                switch row.string(0) {
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
        try write("record SLA miss", singleStatement: true) { db throws(PostgresError) in
            try db.query("""
                INSERT INTO sla_misses (dag_id, run_id, task_id, deadline, detected_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING
                """, [dagId, runId, taskId ?? "", deadline.timeIntervalSince1970, time.timeIntervalSince1970]).affectedRows > 0
        }
    }

    public func slaMisses(dagId: String?) throws -> [SlaMiss] {
        try read("list SLA misses") { db throws(PostgresError) in
            try db.query("""
                SELECT dag_id, run_id, task_id, deadline, detected_at FROM sla_misses WHERE ($1::text IS NULL OR dag_id = $1)
                ORDER BY detected_at
                """, [dagId]).map { row in
                let task = row.string(2) ?? ""
                return SlaMiss(dagId: row.string(0) ?? "", runId: row.string(1) ?? "", taskId: task.isEmpty ? nil : task,
                               deadline: Self.date(row.double(3)) ?? .distantPast, detectedAt: Self.date(row.double(4)) ?? .distantPast)
            }
        }
    }
}
