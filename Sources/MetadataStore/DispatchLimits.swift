/// The limits a task instance's claim must hold, counted by the store at the moment of the claim: whichever node
/// claims, the pool's slots, the DAG's max_active_tasks and the claiming node's parallelism are never exceeded.
public struct DispatchLimits: Sendable, Equatable {
    /// The claiming node (written to the instance's `hostname`, which is how its active instances are counted).
    public var node: String
    /// Task instances queued or running on this node at once.
    public var parallelism: Int
    /// Task instances of the DAG queued or running at once, across its runs.
    public var maxActiveTasks: Int

    public init(node: String, parallelism: Int, maxActiveTasks: Int) {
        self.node = node
        self.parallelism = parallelism
        self.maxActiveTasks = maxActiveTasks
    }
}

/// How a claim for dispatch ended.
public enum DispatchClaim: String, Sendable, Equatable {
    /// scheduled → queued at the next try, on the node: start its worker.
    case claimed
    /// The instance was no longer scheduled at that try (another node got it, or it was cleared).
    case movedOn
    /// Held back by a limit; it stays scheduled for a later pass.
    case poolFull, dagFull, nodeFull
    /// Its pool does not exist: it cannot run.
    case unknownPool
}

/// How starting a queued run ended.
public enum RunStart: String, Sendable, Equatable {
    case started
    /// The run was no longer queued.
    case movedOn
    /// max_active_runs (the DAG's, or its backfill's own) is reached; it stays queued.
    case atLimit
}
