import Foundation

/// Task instances: read for planning and pages, changed only by compare-and-set.
public protocol TaskInstanceStore: Sendable {
    /// Inserts task instances that do not exist yet (tasks added to a DAG after its run was created).
    func addTaskInstances(_ taskInstances: [TaskInstance]) throws -> Int
    func taskInstances(dagId: String, runId: String) throws -> [TaskInstance]
    func taskInstance(_ key: TaskKey) throws -> TaskInstance?
    /// Task instances of every run in the running state.
    func taskInstancesOfRunningRuns() throws -> [TaskInstance]
    func taskInstances(states: Set<TaskState>) throws -> [TaskInstance]
    /// The task instances of several runs of one DAG in one query (the status grid).
    func taskInstances(dagId: String, runIds: [String]) throws -> [TaskInstance]
    /// Compare-and-set: applies `fields` only if the instance is in one of `expecting`
    /// (and at attempt `tryNumber` when given). Returns whether it did.
    func updateTaskInstance(_ key: TaskKey, expecting: Set<TaskState>, tryNumber: Int?, set fields: [TaskField]) throws -> Bool
    /// Claims a scheduled instance for `limits.node` (`TaskInstanceTransition.claimed`) only if, counted in the same
    /// transaction as the compare-and-set, its pool, its DAG and the node each have an instance slot left (queued and
    /// running instances hold one). Contract (pinned by the conformance suite): claims racing from several
    /// connections never overfill a pool, a DAG's max_active_tasks or a node's parallelism.
    func claimForDispatch(_ instance: TaskInstance, limits: DispatchLimits, at time: Date) throws -> DispatchClaim
    /// Puts instances back to `none` so they run again, allowing `extraTries` more attempts; their history stays.
    /// Instances queued or running are left alone.
    /// Contracts (pinned by the conformance suite): a sensor waiting between pokes has an attempt that never ended
    /// (try_number + 1, ended_at unset); clearing it deletes that attempt, so the sensor starts afresh. When anything
    /// was cleared and the run had finished, the run goes back to queued in the same transaction.
    func clearTaskInstances(dagId: String, runId: String, taskIds: Set<String>, extraTries: [String: Int], at time: Date) throws -> Int
}
