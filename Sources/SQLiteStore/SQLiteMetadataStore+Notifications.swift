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

    /// In one BEGIN IMMEDIATE transaction: nothing can claim between the read and the lease.
    public func claimDueNotifications(now: Date, leaseUntil: Date, limit: Int) throws -> [OutboxMessage] {
        try write("claim notifications") { db in
            let due = try Cached.rows(db, sql: """
                SELECT id, event_key, target, payload, attempts, last_error FROM notifications
                WHERE state = 'pending' AND next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT ?
                """, arguments: [now.timeIntervalSince1970, limit]).map {
                OutboxMessage(id: $0[0], eventKey: $0[1], target: $0[2], payload: $0[3], attempts: ($0[4] as Int) + 1, lastError: $0[5])
            }
            for message in due {
                try Cached.execute(db, sql: """
                    UPDATE notifications SET attempts = ?, next_attempt_at = ?, updated_at = ? WHERE id = ?
                    """, arguments: [message.attempts, leaseUntil.timeIntervalSince1970, now.timeIntervalSince1970, message.id])
            }
            return due
        }
    }

    public func recordNotificationAttempt(id: Int64, attempt: Int, delivered: Bool, error: String?, nextAttemptAt: Date?,
                                          at time: Date) throws -> Bool {
        let state = delivered ? "delivered" : (nextAttemptAt == nil ? "failed" : "pending")
        return try write("record notification attempt") { db in
            try Cached.execute(db, sql: """
                UPDATE notifications SET state = ?, last_error = ?, next_attempt_at = ?, updated_at = ?
                WHERE id = ? AND state = 'pending' AND attempts = ?
                """, arguments: [state, error, nextAttemptAt?.timeIntervalSince1970, time.timeIntervalSince1970, id, attempt])
            return db.changesCount > 0
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
