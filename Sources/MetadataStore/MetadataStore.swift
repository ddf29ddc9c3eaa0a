import Foundation

/// Where runs and task instances live: the composition of the store's seams, for callers that need all of them
/// (the scheduler, the CLI). Code that needs less names the seam it uses.
///
/// Every claim of work is a compare-and-set: an update guarded by the state it expects, which returns false when
/// another process got there first. That is what lets several processes (and several machines on PostgreSQL)
/// share one store without running anything twice. Times are always given by the caller (no store reads the
/// clock), and every failure is a `StoreError` with a kind.
public protocol MetadataStore: DagStore, RunStore, TaskInstanceStore, TaskAttemptStore, PoolStore, NotificationOutbox,
    SlaStore, BackfillStore, SchedulerLeaseStore, NodeStore, Sendable {
    /// The store's URL with its password masked, for messages.
    var location: String { get }
}
