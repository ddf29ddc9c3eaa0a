import Foundation

/// DAG runs: created with their task instances, read by filters, moved on by compare-and-set.
public protocol RunStore: Sendable {
    /// Inserts the run and its task instances in one transaction; false if the DAG already has a run at that logical date.
    func createRun(_ run: DagRun, taskInstances: [TaskInstance]) throws -> Bool
    func run(dagId: String, runId: String) throws -> DagRun?
    func run(dagId: String, logicalDate: Date) throws -> DagRun?
    func runs(_ filter: RunFilter) throws -> [DagRun]
    /// How many runs are in each state (for metrics: no run is loaded); only a backfill's runs when `backfillId` is given.
    func runCountsByState(backfillId: Int64?) throws -> [RunState: Int]
    /// Compare-and-set of a run's state. Running sets started_at (once) and clears ended_at; a finished state sets
    /// ended_at; queued clears ended_at. Contract (pinned by the conformance suite): a move to a finished state
    /// happens only while none of the run's task instances is in `TaskState.unfinished`, checked in the same
    /// statement, so a clear landing between the scheduler's read and this update leaves the run going.
    func updateRunState(dagId: String, runId: String, expecting: Set<RunState>, to state: RunState, at time: Date) throws -> Bool
    /// queued → running, only if the run's limit leaves room, counted in the same transaction: a backfill's run
    /// counts against its backfill's max_active_runs (held in the store), any other run against `maxActiveRuns`
    /// with the DAG's other running runs outside backfills. Contract (pinned by the conformance suite): starts racing
    /// from several connections never exceed the limit.
    func startRun(dagId: String, runId: String, maxActiveRuns: Int, at time: Date) throws -> RunStart
    func latestLogicalDate(dagId: String, runType: RunType) throws -> Date?
    /// The run of the same DAG just before `logicalDate`, for depends_on_past.
    func previousRun(dagId: String, before logicalDate: Date) throws -> DagRun?
}

extension RunStore {
    public func runCountsByState() throws -> [RunState: Int] { try runCountsByState(backfillId: nil) }
}
