import MetadataStore
import WorkerCore

extension HomeLayout {
    /// The home's lock and pid files, for the store's scheduler lease.
    public var schedulerLeaseRequest: SchedulerLeaseRequest {
        SchedulerLeaseRequest(home: home, lockPath: schedulerLockPath, pidPath: schedulerPidPath)
    }

    /// The same, for node `nodeName` taking the lease.
    public func schedulerLeaseRequest(node nodeName: String) -> SchedulerLeaseRequest {
        SchedulerLeaseRequest(home: home, lockPath: schedulerLockPath, pidPath: schedulerPidPath, nodeName: nodeName)
    }
}
