import Foundation
/// The guarantee of one scheduler per home and per node. SQLite keeps it as a `flock` on the home's lock file (a
/// store file is only shared by processes of one machine); PostgreSQL adds an advisory lock per node name, so that
/// any number of differently named nodes schedule from one store and a second daemon with a taken name is refused.
public protocol SchedulerLeaseStore: Sendable {
    /// Takes the lease, or throws a `StoreError` of kind `.leaseHeld` naming the holder when another scheduler has it.
    /// The lease is held until `release()` (or until the process dies).
    func acquireSchedulerLease(_ request: SchedulerLeaseRequest) throws -> any SchedulerLease
    /// The pid of the scheduler holding the lease on this machine (to wake it with SIGUSR1), nil when none holds it.
    func schedulerLeaseHolder(_ request: SchedulerLeaseRequest) -> Int32?
}

/// Who asks for the lease, and the local files that name the holder.
public struct SchedulerLeaseRequest: Sendable, Equatable {
    /// The home folder, for messages.
    public var home: String
    /// A local lock file (SQLite's lease).
    public var lockPath: String
    /// Written with the holder's pid, so the CLI and workers on this machine can wake it.
    public var pidPath: String
    /// The node taking the lease (a shared store holds one lease per node name); looking up the local holder
    /// needs none.
    public var nodeName: String

    public init(home: String, lockPath: String, pidPath: String, nodeName: String = "") {
        self.home = home
        self.lockPath = lockPath
        self.pidPath = pidPath
        self.nodeName = nodeName
    }
}

/// A held scheduler lease. `release()` is idempotent.
public protocol SchedulerLease: AnyObject, Sendable {
    func release()
    /// Throws a `StoreError` when the lease is no longer held (a server that dropped the connection holding it), so
    /// that the scheduler steps down instead of running beside the next one. Cheap: called after every pass, it may
    /// ask the server at most once a second (`now` decides).
    func checkHeld(now: Date) throws
}

extension SchedulerLease {
    /// A local lock file stays held as long as this process lives.
    public func checkHeld(now: Date) throws {}
}
