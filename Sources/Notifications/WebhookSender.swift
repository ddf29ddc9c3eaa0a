import CCurlShim
import Foundation
import MetadataStore

/// Delivers the outbox's notifications on a thread of its own: a webhook POST with the event as JSON, or
/// Slack's `{"text": …}` for `slack+https://…` targets and configured targets with `format: slack`. Each
/// attempt has a timeout; failures are retried with backoff, then recorded as failed and logged. Nothing is
/// dropped silently: every outcome is in the store (`notificationCounts`).
///
/// Every node runs a sender on the shared store: each message is claimed in the store before it is sent (a lease of
/// `claimLease`), so it is sent by one of them; a node that dies mid-send leaves it to another once the lease ends.
public final class WebhookSender: @unchecked Sendable {
    public struct Target: Sendable {
        public var url: String
        public var slack: Bool
        public init(url: String, slack: Bool) {
            self.url = url
            self.slack = slack
        }
    }

    let store: any MetadataStore
    /// Named targets from the configuration; replaced when the daemon reloads it.
    private var named: [String: Target]
    private let namedLock = NSLock()
    let timeout: Double
    let maxAttempts: Int
    let log: @Sendable (String, [(String, String)]) -> Void
    private let wake = DispatchSemaphore(value: 0)
    /// How long a claimed message is this sender's: longer than one attempt (its timeout) and its record.
    var claimLease: Double { timeout + 30 }
    /// The longest the thread sleeps: other nodes queue messages too, and their pokes do not reach this one.
    static let pollInterval: Double = 5

    public init(store: any MetadataStore, named: [String: Target], timeout: Double = 10, maxAttempts: Int = 5,
                log: @escaping @Sendable (String, [(String, String)]) -> Void) {
        self.store = store
        self.named = named
        self.timeout = timeout
        self.maxAttempts = maxAttempts
        self.log = log
    }

    /// Takes the named targets of a reloaded configuration; messages not yet delivered use the new URLs.
    public func updateTargets(_ targets: [String: Target]) {
        namedLock.withLock { named = targets }
        poke()
    }

    /// Wakes the thread: something was queued.
    public func poke() { wake.signal() }

    public func start() {
        orchestrator_http_global_init()
        let thread = Thread { [self] in
            while true {
                deliverDue()
                let next = (try? store.nextNotificationAttempt()) ?? nil
                let wait = min(Self.pollInterval, next.map { max(0.05, $0.timeIntervalSinceNow) } ?? Self.pollInterval)
                _ = wake.wait(timeout: .now() + wait)
            }
        }
        thread.name = "notifications"
        thread.start()
    }

    /// Claims and sends due messages one at a time (each claim's lease then covers one send), a bounded number per
    /// wake-up so that a long queue does not keep the thread from its loop.
    func deliverDue() {
        for _ in 0..<100 {
            let now = Date()
            let claimed: [OutboxMessage]
            do {
                claimed = try store.claimDueNotifications(now: now, leaseUntil: now.addingTimeInterval(claimLease), limit: 1)
            } catch {
                log("cannot claim notifications", [("error", "\(error)")])
                return
            }
            guard let message = claimed.first else { return }
            deliver(message)
        }
    }

    func resolve(_ target: String) -> Target? {
        if target.hasPrefix("slack+") { return Target(url: String(target.dropFirst("slack+".count)), slack: true) }
        if target.hasPrefix("http://") || target.hasPrefix("https://") { return Target(url: target, slack: false) }
        return namedLock.withLock { named[target] }
    }

    func deliver(_ message: OutboxMessage) {
        let attempt = message.attempts
        guard let target = resolve(message.target) else {
            // Another node may know the name (its configuration changed first): retried like a failed send, so that a
            // node that has it can claim it, before it counts as failed.
            record(message, delivered: false, error: "unknown notification target '\(message.target)' on this node",
                   retry: attempt < maxAttempts)
            return
        }
        let body = target.slack ? Self.slackBody(message.payload) : message.payload
        var response = body.withCString { pointer in
            orchestrator_http_post(target.url, "application/json", pointer, strlen(pointer), Int(timeout * 1000))
        }
        defer { orchestrator_http_free(&response) }
        if response.curl_code == 0 && (200..<300).contains(response.status) {
            record(message, delivered: true, error: nil, retry: false)
            return
        }
        let reason = response.curl_code != 0
            ? withUnsafeBytes(of: response.error) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            : "HTTP \(response.status)"
        record(message, delivered: false, error: reason, retry: attempt < maxAttempts)
    }

    func record(_ message: OutboxMessage, delivered: Bool, error: String?, retry: Bool) {
        let attempt = message.attempts
        let next = retry ? Date().addingTimeInterval(pow(2, Double(attempt - 1))) : nil
        do {
            let recorded = try store.recordNotificationAttempt(id: message.id, attempt: attempt, delivered: delivered, error: error,
                                                               nextAttemptAt: next, at: Date())
            guard recorded else {
                // Past its lease another node claimed it again, and records its own attempt.
                log("notification claim lapsed before its outcome was recorded; another node has claimed it",
                    [("event", message.eventKey), ("attempt", String(attempt))])
                return
            }
        } catch {
            log("cannot record a notification attempt", [("event", message.eventKey), ("error", "\(error)")])
        }
        if let error {
            let target = Self.redacted(message.target)
            if retry {
                log("notification not delivered; will retry", [("event", message.eventKey), ("target", target), ("attempt", String(attempt)), ("error", error)])
            } else {
                log("notification failed", [("event", message.eventKey), ("target", target), ("attempts", String(attempt)), ("error", error)])
            }
        }
    }

    /// A Slack-compatible body: one line of text saying what happened.
    static func slackBody(_ payload: String) -> String {
        let event = (try? JSONSerialization.jsonObject(with: Data(payload.utf8))) as? [String: Any] ?? [:]
        let kind = event["event"] as? String ?? "event"
        var text = ":rotating_light: \(kind.replacingOccurrences(of: "_", with: " ")): \(event["dag_id"] as? String ?? "?")"
        if kind == "run_succeeded" || kind == "run_recovered" { text = ":white_check_mark: " + text.dropFirst(":rotating_light: ".count) }
        if let task = event["task_id"] as? String { text += ".\(task)" }
        text += " [\(event["run_id"] as? String ?? "?")]"
        if let note = event["note"] as? String { text += " — \(note)" }
        let data = (try? JSONSerialization.data(withJSONObject: ["text": text], options: [.sortedKeys])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }

    /// Webhook URLs often carry a secret in their path: log the host only.
    static func redacted(_ target: String) -> String {
        guard let components = URLComponents(string: target.hasPrefix("slack+") ? String(target.dropFirst(6)) : target),
              let host = components.host else { return target }
        return "\(components.scheme ?? "https")://\(host)\(components.port.map { ":\($0)" } ?? "")/…"
    }
}
