import Foundation

/// The nodes (daemons) sharing the store: each registers when it starts and heartbeats every few seconds, so that
/// every node can see which others are alive.
public protocol NodeStore: Sendable {
    /// Records the node as started now (a restart under the same name replaces the earlier record). A store with a
    /// clock of its own stamps the first heartbeat with it, as `heartbeatNode` does.
    func registerNode(_ node: NodeRecord) throws
    /// Stamps the node's heartbeat: with the store's own clock where it has one (PostgreSQL: every node judges
    /// heartbeat ages by that one clock, so a skewed node neither looks dead nor keeps a dead one alive), else with
    /// `time` (SQLite: one machine, one clock). Returns the store's clock read in the same call, to measure this
    /// node's skew; nil when the store has no clock apart from this machine's.
    func heartbeatNode(name: String, at time: Date) throws -> Date?
    /// Every node known to the store, by name.
    func nodes() throws -> [NodeRecord]
    /// The store's own clock now, which heartbeat ages are judged by; nil when it has none apart from this
    /// machine's (SQLite).
    func storeTime() throws -> Date?
    /// Forgets the nodes whose last heartbeat is before `cutoff` (long gone), so the table stays bounded; how many.
    func pruneNodes(silentBefore cutoff: Date) throws -> Int
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
