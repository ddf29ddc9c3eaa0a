import Foundation

/// The nodes (daemons) sharing the store: each registers when it starts and heartbeats every few seconds, so that
/// every node can see which others are alive.
public protocol NodeStore: Sendable {
    /// Records the node as started now (a restart under the same name replaces the earlier record).
    func registerNode(_ node: NodeRecord) throws
    /// Stamps the node's heartbeat with `time` (the node's clock). Returns the store's own clock read in the same
    /// call, to measure this node's skew; nil when the store has no clock apart from this machine's (SQLite).
    func heartbeatNode(name: String, at time: Date) throws -> Date?
    /// Every node known to the store, by name.
    func nodes() throws -> [NodeRecord]
}

/// A node as the store knows it.
public struct NodeRecord: Sendable, Equatable {
    public var name: String
    public var startedAt: Date
    public var lastHeartbeat: Date
    /// The orchestrator version the node runs.
    public var version: String
    public var pid: Int32
    /// The base URL at which other nodes reach this node's web server (`advertise_url`), to fetch the logs of the
    /// attempts it ran; nil when its web server is off (or it ran a version before v5-node-addresses).
    public var address: String?

    public init(name: String, startedAt: Date, lastHeartbeat: Date, version: String, pid: Int32, address: String? = nil) {
        self.name = name
        self.startedAt = startedAt
        self.lastHeartbeat = lastHeartbeat
        self.version = version
        self.pid = pid
        self.address = address
    }
}
