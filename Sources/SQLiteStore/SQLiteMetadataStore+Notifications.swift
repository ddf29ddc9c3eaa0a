import Foundation
import GRDB
import MetadataStore

/// NotificationOutbox on SQLite.
extension SQLiteMetadataStore {
    public func enqueueNotification(eventKey: String, target: String, payload: String, at time: Date) throws -> Bool {
        try write("queue notification") { db in
            try Cached.execute(db, sql: """
                INSERT INTO notifications (event_key, target, payload, next_attempt_at, created_at) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT DO NOTHING
                """, arguments: [eventKey, target, payload, time.timeIntervalSince1970, time.timeIntervalSince1970])
            return db.changesCount > 0
        }
    }

    public func dueNotifications(now: Date, limit: Int) throws -> [OutboxMessage] {
        try read("due notifications") { db in
            try Cached.rows(db, sql: """
                SELECT id, event_key, target, payload, attempts, last_error FROM notifications
                WHERE state = 'pending' AND next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT ?
                """, arguments: [now.timeIntervalSince1970, limit]).map {
                OutboxMessage(id: $0[0], eventKey: $0[1], target: $0[2], payload: $0[3], attempts: $0[4], lastError: $0[5])
            }
        }
    }

    public func recordNotificationAttempt(id: Int64, delivered: Bool, error: String?, nextAttemptAt: Date?, at time: Date) throws {
        let state = delivered ? "delivered" : (nextAttemptAt == nil ? "failed" : "pending")
        try write("record notification attempt") { db in
            try Cached.execute(db, sql: """
                UPDATE notifications SET state = ?, attempts = attempts + 1, last_error = ?, next_attempt_at = ?, updated_at = ?
                WHERE id = ?
                """, arguments: [state, error, nextAttemptAt?.timeIntervalSince1970, time.timeIntervalSince1970, id])
        }
    }

    public func nextNotificationAttempt() throws -> Date? {
        try read("next notification") { db in
            try Cached.double(db, sql: "SELECT MIN(next_attempt_at) FROM notifications WHERE state = 'pending'")
                .map(Date.init(timeIntervalSince1970:))
        }
    }

    public func notificationCounts() throws -> (pending: Int, delivered: Int, failed: Int) {
        try read("count notifications") { db in
            var counts = (pending: 0, delivered: 0, failed: 0)
            for row in try Cached.rows(db, sql: "SELECT state, COUNT(*) FROM notifications GROUP BY state") {
                let count: Int = row[1]
                switch row[0] as String {
                case "delivered": counts.delivered = count
                case "failed": counts.failed = count
                default: counts.pending = count
                }
            }
            return counts
        }
    }
}
