import Foundation

/// Notifications as an outbox: the scheduler enqueues in its own transaction's wake, a delivery thread sends.
///
/// Several senders (one per node) may share the store: a sender first *claims* due messages, which leases each to
/// it until `leaseUntil` (the lease is the message's next attempt time, moved ahead, and its attempt count goes up),
/// then sends and records the outcome against its claim. Exactly once while senders live; if one dies mid-send,
/// another claims the message once the lease has passed and sends it again (at least once across a crash).
public protocol NotificationOutbox: Sendable {
    /// Queues one message for one target; false when that event was already queued for it.
    func enqueueNotification(eventKey: String, target: String, payload: String, at time: Date) throws -> Bool
    /// Claims up to `limit` pending messages due by `now`, oldest first, each leased to the caller until `leaseUntil`:
    /// no other claim returns them before then. A claimed message's `attempts` counts the attempt just claimed.
    func claimDueNotifications(now: Date, leaseUntil: Date, limit: Int) throws -> [OutboxMessage]
    /// Records the outcome of a claimed attempt (`attempt` as claimed): delivered, or the error and when to try again
    /// (nil: given up). False, recording nothing, when the claim had lapsed and another sender has claimed it since.
    func recordNotificationAttempt(id: Int64, attempt: Int, delivered: Bool, error: String?, nextAttemptAt: Date?,
                                   at time: Date) throws -> Bool
    /// Earliest pending attempt (or end of a claim's lease), so the sender can sleep until then.
    func nextNotificationAttempt() throws -> Date?
    /// Messages by outcome: pending, delivered, failed.
    func notificationCounts() throws -> (pending: Int, delivered: Int, failed: Int)
}
