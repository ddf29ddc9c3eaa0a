import Foundation
import MetadataStore

/// This daemon as a node of the store: registered when it starts, then heartbeating every few seconds from a thread
/// of its own (a long scheduler pass does not delay it). Each beat compares this machine's clock with the store's:
/// nodes agree on "now" only through their clocks (heartbeat ages, retry times, SLA deadlines), so a skew beyond
/// `skewLimit` is warned about in the log and on /healthz.
public final class NodeHeartbeat: @unchecked Sendable {
    public static let interval: Double = 5
    public static let skewLimit: Double = 5
    /// Recorded on the node's row. The project has no release numbers yet: this is the one place to set one.
    public static let version = "0.0.0-dev"

    let store: any NodeStore
    public let name: String
    let log: SchedulerLog
    /// This machine's clock; injected so a test can skew it.
    let clock: @Sendable () -> Date
    private let lock = NSLock()
    private var skew: Double = 0
    private var lastError: String?
    private var stopped = false
    private let wake = DispatchSemaphore(value: 0)

    public init(store: any NodeStore, name: String, log: SchedulerLog, clock: @escaping @Sendable () -> Date = { Date() }) {
        self.store = store
        self.name = name
        self.log = log
        self.clock = clock
    }

    /// Registers the node and measures the skew once (a failure here stops the daemon's start), then beats on a thread.
    /// `address` is where other nodes reach this one's web server (nil: its web server is off).
    public func start(address: String? = nil) throws {
        let now = clock()
        try store.registerNode(NodeRecord(name: name, startedAt: now, lastHeartbeat: now, version: Self.version, pid: getpid(),
                                          address: address))
        try beat()
        let thread = Thread { [self] in
            while wake.wait(timeout: .now() + Self.interval) == .timedOut {
                if lock.withLock({ stopped }) { return }
                do {
                    try beat()
                    lock.withLock { lastError = nil }
                } catch {
                    // The scheduler's own store calls fail and say so too; the beat just tries again.
                    let first = lock.withLock { () -> Bool in
                        defer { lastError = "\(error)" }
                        return lastError == nil
                    }
                    if first { log(.warning, "node heartbeat failed; retrying", [("node", name), ("error", "\(error)")]) }
                }
            }
        }
        thread.name = "node heartbeat"
        thread.start()
    }

    public func stop() {
        lock.withLock { stopped = true }
        wake.signal()
    }

    /// One heartbeat; the skew is this clock's midpoint of the call minus the store's clock read during it.
    func beat() throws {
        let sent = clock()
        let storeClock = try store.heartbeatNode(name: name, at: sent)
        let received = clock()
        let measured = storeClock.map { sent.addingTimeInterval(received.timeIntervalSince(sent) / 2).timeIntervalSince($0) } ?? 0
        let wasSkewed = lock.withLock { () -> Bool in
            defer { skew = measured }
            return abs(skew) > Self.skewLimit
        }
        let isSkewed = abs(measured) > Self.skewLimit
        if isSkewed && !wasSkewed {
            log(.warning, "node clock is skewed from the store's", [("node", name), ("skew_seconds", Self.seconds(measured)),
                                                                    ("limit_seconds", Self.seconds(Self.skewLimit))])
        } else if wasSkewed && !isSkewed {
            log(.info, "node clock agrees with the store's again", [("node", name), ("skew_seconds", Self.seconds(measured))])
        }
    }

    /// Seconds this clock is ahead of the store's (negative: behind), as last measured.
    public var clockSkew: Double { lock.withLock { skew } }

    /// Lines for /healthz: the node's name, and a warning when its clock is skewed or its heartbeat failing.
    public var health: String {
        let (skew, error) = lock.withLock { (self.skew, lastError) }
        var text = "node: \(name)\n"
        if abs(skew) > Self.skewLimit {
            text += "warning: clock \(Self.seconds(abs(skew))) s \(skew > 0 ? "ahead of" : "behind") the store's (limit \(Self.seconds(Self.skewLimit)) s)\n"
        }
        if let error { text += "warning: heartbeat failing: \(error)\n" }
        return text
    }

    static func seconds(_ value: Double) -> String { String(format: "%.1f", value) }
}
