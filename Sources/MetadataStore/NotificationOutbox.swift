import Foundation

/// Notifications as an outbox: the scheduler enqueues in its own transaction's wake, a delivery thread sends.
public protocol NotificationOutbox: Sendable {
    /// Queues one message for one target; false when that event was already queued for it.
    func enqueueNotification(eventKey: String, target: String, payload: String, at time: Date) throws -> Bool
    /// Messages not yet delivered whose next attempt is due, oldest first.
    func dueNotifications(now: Date, limit: Int) throws -> [OutboxMessage]
    /// Records a delivery attempt: delivered, or the error and when to try again (nil: given up).
    func recordNotificationAttempt(id: Int64, delivered: Bool, error: String?, nextAttemptAt: Date?, at time: Date) throws
    /// Earliest pending attempt, so the sender can sleep until then.
    func nextNotificationAttempt() throws -> Date?
    /// Messages by outcome: pending, delivered, failed.
    func notificationCounts() throws -> (pending: Int, delivered: Int, failed: Int)
}
