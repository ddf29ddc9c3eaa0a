import Foundation

/// Where runs and task instances live. Every claim of work is a compare-and-set: an update guarded by
/// the state it expects, which returns false when another process got there first. That is what lets
/// several processes (and later several machines on PostgreSQL) share one store without running anything twice.
public protocol MetadataStore: Sendable {
    // MARK: DAGs
    /// Records the DAGs currently loaded (new ones start unpaused) and the files that failed to load.
    func syncDags(_ dags: [(dagId: String, fileLocation: String)], importErrors: [String: String]) throws
    func dags() throws -> [DagRecord]
    /// Makes one DAG known to the store (unpaused if new) without touching the others, for CLI commands
    /// that act on a DAG before a daemon has loaded it.
    func registerDag(dagId: String, fileLocation: String) throws
    /// Returns false when the DAG is unknown to the store.
    func setPaused(dagId: String, paused: Bool) throws -> Bool
    func importErrors() throws -> [String: String]

    // MARK: Runs
    /// Inserts the run and its task instances in one transaction; false if the DAG already has a run at that logical date.
    func createRun(_ run: DagRun, taskInstances: [TaskInstance]) throws -> Bool
    /// Inserts task instances that do not exist yet (tasks added to a DAG after its run was created).
    func addTaskInstances(_ taskInstances: [TaskInstance]) throws -> Int
    func run(dagId: String, runId: String) throws -> DagRun?
    func run(dagId: String, logicalDate: Date) throws -> DagRun?
    func runs(_ filter: RunFilter) throws -> [DagRun]
    /// How many runs are in each state (for metrics: no run is loaded); only a backfill's runs when `backfillId` is given.
    func runCountsByState(backfillId: Int64?) throws -> [RunState: Int]
    /// Compare-and-set of a run's state; sets started/ended timestamps as the state implies.
    func updateRunState(dagId: String, runId: String, expecting: Set<RunState>, to state: RunState, at time: Date) throws -> Bool
    func latestLogicalDate(dagId: String, runType: RunType) throws -> Date?
    /// The run of the same DAG just before `logicalDate`, for depends_on_past.
    func previousRun(dagId: String, before logicalDate: Date) throws -> DagRun?

    // MARK: Task instances
    func taskInstances(dagId: String, runId: String) throws -> [TaskInstance]
    func taskInstance(_ key: TaskKey) throws -> TaskInstance?
    /// Task instances of every run in the running state.
    func taskInstancesOfRunningRuns() throws -> [TaskInstance]
    func taskInstances(states: Set<TaskState>) throws -> [TaskInstance]
    /// The task instances of several runs of one DAG in one query (the status grid).
    func taskInstances(dagId: String, runIds: [String]) throws -> [TaskInstance]
    /// Finished attempts' durations per DAG: how many fell at or under each bound of `buckets`, their count and sum.
    func taskDurationHistogram(buckets: [Double]) throws -> [String: DurationHistogram]
    /// Compare-and-set: applies `fields` only if the instance is in one of `expecting`
    /// (and at attempt `tryNumber` when given). Returns whether it did.
    func updateTaskInstance(_ key: TaskKey, expecting: Set<TaskState>, tryNumber: Int?, set fields: [TaskField]) throws -> Bool
    /// Puts instances back to `none` so they run again, allowing `extraTries` more attempts; their history stays.
    /// Instances queued or running are left alone. When anything was cleared and the run had finished, the run goes
    /// back to queued in the same transaction, so a run that finishes while it is being cleared is not left finished.
    func clearTaskInstances(dagId: String, runId: String, taskIds: Set<String>, extraTries: [String: Int], at time: Date) throws -> Int

    // MARK: Attempts
    func recordAttempt(_ attempt: TaskAttempt) throws
    /// Ends an attempt in one transaction: the instance moves from running at `attempt.tryNumber` to the
    /// fields given, and the attempt is recorded. False (and nothing written) when the instance moved on.
    func completeAttempt(_ attempt: TaskAttempt, set fields: [TaskField]) throws -> Bool
    func attempts(_ key: TaskKey) throws -> [TaskAttempt]

    // MARK: Pools
    func pools() throws -> [String: Int]
    func setPool(name: String, slots: Int) throws
    func deletePool(name: String) throws -> Bool

    // MARK: Notifications (an outbox: the scheduler enqueues, a delivery thread sends)
    /// Queues one message for one target; false when that event was already queued for it.
    func enqueueNotification(eventKey: String, target: String, payload: String, at time: Date) throws -> Bool
    /// Messages not yet delivered whose next attempt is due, oldest first.
    func dueNotifications(now: Date, limit: Int) throws -> [OutboxMessage]
    /// Records a delivery attempt: delivered, or the error and when to try again (nil: given up).
    func recordNotificationAttempt(id: Int64, delivered: Bool, error: String?, nextAttemptAt: Date?, at time: Date) throws
    /// Earliest pending attempt, so the sender can sleep until then.
    func nextNotificationAttempt() throws -> Date?
    /// Messages by outcome: pending, delivered, failed.
    func notificationCounts() throws -> (pending: Int, delivered: Int, failed: Int)

    // MARK: SLAs
    /// Records that a run (taskId nil) or a task missed its SLA; false if already recorded.
    func recordSlaMiss(dagId: String, runId: String, taskId: String?, deadline: Date, at time: Date) throws -> Bool
    func slaMisses(dagId: String?) throws -> [SlaMiss]

    // MARK: Backfills
    func createBackfill(dagId: String, start: Date, end: Date, maxActiveRuns: Int, at time: Date) throws -> Int64
    func backfill(id: Int64) throws -> Backfill?
    /// A DAG's backfills, newest first.
    func backfills(dagId: String) throws -> [Backfill]
    /// Moves existing runs into a backfill, so they count against its run limit.
    func assignRuns(dagId: String, runIds: [String], toBackfill id: Int64) throws
}

extension MetadataStore {
    public func runCountsByState() throws -> [RunState: Int] { try runCountsByState(backfillId: nil) }
}

/// Cumulative counts per bucket bound, as Prometheus histograms want them.
public struct DurationHistogram: Sendable, Equatable {
    public var bucketCounts: [Int]
    public var count: Int
    public var sum: Double

    public init(bucketCounts: [Int], count: Int, sum: Double) {
        self.bucketCounts = bucketCounts
        self.count = count
        self.sum = sum
    }
}

/// A store failure with the operation that failed; never carries secrets.
public struct StoreError: Error, Sendable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
