import Foundation
import MetadataStore

/// The other nodes a command can hand its runs to: those the store saw heartbeat within `node_timeout` (the rule by
/// which the nodes judge each other lost, 0011). This process's own node name is left out: on this home that is the
/// local daemon, which the home's lock file tells about at once (its row stays fresh for a while after it died).
public struct LiveNodes: Sendable {
    public var timeout: Double
    public var ownName: String

    public init(timeout: Double, ownName: String) {
        self.timeout = timeout
        self.ownName = ownName
    }

    public func alive(_ nodes: [NodeRecord], now: Date) -> [NodeRecord] {
        nodes.filter { $0.name != ownName && now.timeIntervalSince($0.lastHeartbeat) <= timeout }
    }

    /// Judged by the store's clock where it has one (PostgreSQL stamps the heartbeats with it, 0013), so a skewed
    /// clock here neither hides a live node nor keeps a dead one alive.
    public func alive(in store: any NodeStore, now: Date = Date()) throws -> [NodeRecord] {
        alive(try store.nodes(), now: try store.storeTime() ?? now)
    }
}
