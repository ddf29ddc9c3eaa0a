import Executor
import Foundation
import MetadataStore
import SecretMasking
import WorkerCore
import Workflow

/// Which runs this scheduler works on: all of them (the daemon), or only some (a backfill or `test`
/// running without a daemon).
public enum SchedulerScope: Sendable, Equatable {
    case everything
    case runs(Set<RunRef>)
}

public struct RunRef: Sendable, Hashable {
    public var dagId: String
    public var runId: String
    public init(dagId: String, runId: String) {
        self.dagId = dagId
        self.runId = runId
    }
}

public struct SchedulerSettings: Sendable {
    public var home: HomeLayout
    public var dagsFolder: String
    /// Task instances running at once, across all DAGs.
    public var parallelism: Int
    /// Seconds running tasks get to finish after SIGTERM before they are terminated.
    public var gracePeriod: Double
    /// A running attempt whose heartbeat is older than this (on another host) is taken as dead.
    public var heartbeatTimeout: Double
    public var workerPath: String
    public var orchestratorPath: String
    public var scope: SchedulerScope
    /// Copy task output to the terminal (`orchestrator test`).
    public var tee: Bool
    /// Named connections (lowercased name → URL). A task's worker gets only those the task names, as
    /// `ORCHESTRATOR_CONN_<NAME>`; the scheduler's own environment holds none.
    public var connections: [String: String] = [:]
    /// The store's URL as workers and sensors open it (no password: it reaches the workers' argv).
    public var storeURL: String
    /// Variables every worker gets in its environment (never its argv) to open the store: PostgreSQL's PGPASSWORD.
    /// The worker drops them before it starts the task.
    public var storeEnvironment: [String: String] = [:]
    /// This node's name (`NodeName`): the instances it claims carry it, its parallelism counts them, tasks get it.
    public var nodeName: String = SystemInfo.hostname
    /// Another node silent this long (its own heartbeat and its workers') is lost: its attempts fail with "node lost".
    public var nodeTimeout: Double = 30
    /// At most this long between two passes, even when nothing here woke the loop: other nodes (and commands on
    /// other machines) cannot signal this process, so work they create or unblock is found by reading the store.
    public var storePollInterval: Double = SchedulerSettings.defaultStorePollInterval
    public static let defaultStorePollInterval = 1.0
    /// The lake's S3 credentials (`SecretMasker.lakeCredentialVariables`), remembered before the scheduler's own
    /// environment was scrubbed: only the tasks that use the lake (transforms) get them, never a command task.
    public var lakeEnvironment: [String: String] = [:]
    /// Opens the store connection that answers the workers' writes over their attempt channels (PostgreSQL: the workers
    /// then need no connection, and no libpq, of their own; docs/decisions/0016). Nil: workers open the store themselves.
    public var attemptStoreForWorkers: AttemptChannelServer.Opener?

    public init(home: HomeLayout, dagsFolder: String, parallelism: Int = 32, gracePeriod: Double = 60,
                heartbeatTimeout: Double = 60, workerPath: String, orchestratorPath: String,
                scope: SchedulerScope = .everything, tee: Bool = false) {
        self.home = home
        self.dagsFolder = dagsFolder
        self.parallelism = parallelism
        self.gracePeriod = gracePeriod
        self.heartbeatTimeout = heartbeatTimeout
        self.workerPath = workerPath
        self.orchestratorPath = orchestratorPath
        self.scope = scope
        self.tee = tee
        self.storeURL = "sqlite://" + home.storePath
    }
}

/// The scheduler's decisions: create due runs, start queued runs, move task instances on, and start
/// workers for the ready ones. It persists each decision (compare-and-set) before acting on it, and
/// never runs task code itself. Not thread-safe: `SchedulerLoop` drives it from one thread.
public final class Scheduler {
    let store: any MetadataStore
    let settings: SchedulerSettings
    let log: SchedulerLog
    let specBuilder: AttemptSpecBuilder
    /// The node this scheduler claims for (its instances' `hostname`).
    var hostname: String { settings.nodeName }
    public internal(set) var folder: DagFolder
    /// Workers this process started, by pid.
    var children: [pid_t: (key: TaskKey, tryNumber: Int)] = [:]
    /// Workers started by an earlier scheduler that are still alive.
    var adopted: [pid_t: (key: TaskKey, tryNumber: Int)] = [:]
    var lastReportedErrors: [String: String] = [:]
    /// The scheduler's environment, read once: workers inherit it. Never a connection (or the web token), even if
    /// the caller left one in the process environment: connections are granted per task (`TaskConnections`).
    var workerEnvironment = TaskConnections.withoutSecrets(ProcessInfo.processInfo.environment)
    /// Named connections, from the settings; a configuration reload replaces them.
    var connections: [String: String]
    /// Task instances running at once; starts from the settings, changed by a configuration reload.
    public var parallelism: Int
    /// Set when a pass changed something the next pass must act on at once.
    var pendingWake = false
    /// Notification events already queued by this process (the outbox ignores repeats anyway).
    var queuedNotifications: Set<String> = []
    /// When SLAs were last checked (first: when this scheduler started): a failed run's miss is recorded when its
    /// deadline passes after that, so a restart does not raise the misses of old failures.
    var lastSlaCheck = Date()
    /// SLA misses this process has recorded (or found recorded), so each is written once, not on every pass.
    var knownSlaMisses: Set<String> = []
    /// Called with the DAGs after each (re)load, for readers on other threads (the status pages).
    public var onDagsLoaded: ([DAG]) -> Void = { _ in }
    /// Called when notifications were queued, so the delivery thread wakes.
    public var onNotificationQueued: () -> Void = {}
    /// Called after a worker starts, so the reaper knows to wait.
    var onSpawn: () -> Void = {}
    /// Answers the workers' attempt channels, when the settings say so.
    let attemptChannels: AttemptChannelServer?

    public init(store: any MetadataStore, settings: SchedulerSettings, log: SchedulerLog, folder: DagFolder? = nil) {
        self.store = store
        self.settings = settings
        self.log = log
        self.folder = folder ?? DagFolder(path: settings.dagsFolder)
        self.specBuilder = AttemptSpecBuilder(home: settings.home, orchestratorPath: settings.orchestratorPath, tee: settings.tee,
                                              storeURL: settings.storeURL)
        self.parallelism = settings.parallelism
        self.connections = settings.connections
        self.attemptChannels = settings.attemptStoreForWorkers.flatMap { AttemptChannels.server(opening: $0) }
    }

    var runningWorkers: Int { children.count + adopted.count }

    func inScope(dagId: String, runId: String) -> Bool {
        switch settings.scope {
        case .everything: return true
        case .runs(let refs): return refs.contains(RunRef(dagId: dagId, runId: runId))
        }
    }

    // MARK: DAG files

    /// Loads the DAG folder again and tells the store what is there (daemon only).
    public func reloadDags(now: Date = Date()) throws {
        folder = DagFolder.load(path: settings.dagsFolder)
        onDagsLoaded(folder.sortedDags)
        // Errors quote the file's text, which may hold a password: they reach the log, the store and the pages.
        let errors = folder.errors.mapValues { SecretMasker.masked($0.description) }
        try store.syncDags(folder.sortedDags.map { ($0.dagId, $0.filePath) }, importErrors: errors, at: now)
        for (file, message) in errors where lastReportedErrors[file] != message {
            log(.error, "DAG file failed to load", [("file", file), ("error", message)])
        }
        for file in lastReportedErrors.keys where errors[file] == nil {
            log(.info, "DAG file loads again", [("file", file)])
        }
        lastReportedErrors = errors
        log(.info, "DAGs loaded", [("count", String(folder.dags.count)), ("errors", String(errors.count))])
    }

    // MARK: One pass

    /// Does everything that is due now and returns when it next needs to look, if nothing wakes it before.
    public func pass(now: Date, stopping: Bool) throws -> Date? {
        var wakeAt: [Date?] = []
        if !stopping {
            if settings.scope == .everything { wakeAt.append(try createDueRuns(now: now)) }
            try startQueuedRuns(now: now)
        }
        // One read of the running runs' task instances serves both steps; advancing updates it in memory.
        let (nextRetry, instances) = try advanceRunningRuns(now: now)
        wakeAt.append(nextRetry)
        queueTaskFailures(instances, now: now)
        wakeAt.append(try checkSlas(instances: instances, now: now))
        if !stopping { try dispatchReady(now: now, instances: instances) }
        // After dispatch too: a task that failed there (unknown pool or connection) moves its run on at once.
        if pendingWake {
            pendingWake = false
            wakeAt.append(now)
        }
        return wakeAt.compactMap { $0 }.min()
    }

    /// Creates scheduled runs whose interval has ended; returns when the next one falls due.
    func createDueRuns(now: Date) throws -> Date? {
        let paused = Set(try store.dags().filter(\.isPaused).map(\.dagId))
        var nextDue: Date?
        for dag in folder.sortedDags where !paused.contains(dag.dagId) && dag.timetable.cron != nil {
            let latest = try store.latestLogicalDate(dagId: dag.dagId, runType: .scheduled)
            for logicalDate in RunCreation.dueLogicalDates(dag: dag, latestExisting: latest, now: now) {
                guard let interval = dag.timetable.dataInterval(forScheduled: logicalDate) else { continue }
                let (run, instances) = RunCreation.makeRun(dag: dag, logicalDate: logicalDate, interval: interval,
                                                            type: .scheduled, params: [:], now: now)
                if try store.createRun(run, taskInstances: instances) {
                    log(.info, "run created", [("dag", dag.dagId), ("run", run.runId)])
                }
            }
            let newest = try store.latestLogicalDate(dagId: dag.dagId, runType: .scheduled)
            if let due = RunCreation.nextDueTime(dag: dag, latestExisting: newest) {
                nextDue = min(nextDue ?? due, due)
            }
        }
        return nextDue
    }

    /// Moves queued runs to running, oldest first, within max_active_runs (a backfill's own limit for its runs).
    func startQueuedRuns(now: Date) throws {
        let queued = try store.runs(RunFilter(states: [.queued])).filter { inScope(dagId: $0.dagId, runId: $0.runId) }
        guard !queued.isEmpty else { return }
        let running = try store.runs(RunFilter(states: [.running]))
        let paused = Set(try store.dags().filter(\.isPaused).map(\.dagId))
        var activeByDag: [String: Int] = [:]
        var activeByBackfill: [Int64: Int] = [:]
        for run in running {
            if let id = run.backfillId { activeByBackfill[id, default: 0] += 1 } else { activeByDag[run.dagId, default: 0] += 1 }
        }
        var backfillLimits: [Int64: Int] = [:]
        for run in queued {
            guard let dag = folder.dags[run.dagId] else { continue }
            if let id = run.backfillId {
                if backfillLimits[id] == nil { backfillLimits[id] = try store.backfill(id: id)?.maxActiveRuns ?? dag.maxActiveRuns }
                guard activeByBackfill[id, default: 0] < backfillLimits[id, default: 1] else { continue }
            } else {
                guard !paused.contains(run.dagId), activeByDag[run.dagId, default: 0] < dag.maxActiveRuns else { continue }
            }
            // The counts above only skip hopeless starts: the store holds the limit across processes and nodes.
            if try store.startRun(dagId: run.dagId, runId: run.runId, maxActiveRuns: dag.maxActiveRuns, at: now) == .started {
                if let id = run.backfillId { activeByBackfill[id, default: 0] += 1 } else { activeByDag[run.dagId, default: 0] += 1 }
                log(.debug, "run started", [("dag", run.dagId), ("run", run.runId)])
            }
        }
    }

    /// Applies the run planner to every running run; returns the earliest pending retry time and the
    /// task instances of the running runs as they are after this step.
    func advanceRunningRuns(now: Date) throws -> (Date?, [TaskInstance]) {
        var instances = try store.taskInstancesOfRunningRuns()
        let position = Dictionary(instances.enumerated().map { ($1.key, $0) }, uniquingKeysWith: { a, _ in a })
        let byRun = Dictionary(grouping: instances) { RunRef(dagId: $0.key.dagId, runId: $0.key.runId) }
        // The running runs in one read, not one per run and pass (on PostgreSQL each is a round trip: 4.4 per task
        // instance of the bench's backfill). A run that finished since the instances were read is left out, as it should.
        let running = byRun.isEmpty ? [:] : Dictionary(try store.runs(RunFilter(states: [.running])).map { (RunRef(dagId: $0.dagId, runId: $0.runId), $0) },
                                                      uniquingKeysWith: { first, _ in first })
        var nextRetry: Date?
        for (ref, runInstances) in byRun where inScope(dagId: ref.dagId, runId: ref.runId) {
            guard let dag = folder.dags[ref.dagId], let run = running[ref] else { continue }
            // Tasks added to the DAG file after the run was created join it, as Airflow's verify_integrity does;
            // they are planned in the next pass.
            if runInstances.count < dag.tasks.count {
                let present = Set(runInstances.map(\.key.taskId))
                let missing = dag.tasks.filter { !present.contains($0.id) }.map { task in
                    TaskInstance(key: TaskKey(dagId: dag.dagId, runId: run.runId, taskId: task.id), maxTries: task.retry.maxTries,
                                 pool: task.pool, priorityWeight: task.priorityWeight)
                }
                if try store.addTaskInstances(missing) > 0 {
                    log(.info, "tasks added to a running run", [("dag", dag.dagId), ("run", run.runId),
                                                                 ("tasks", missing.map(\.key.taskId).joined(separator: ","))])
                    pendingWake = true
                    continue
                }
            }
            var previousStates: [String: TaskState]?
            if dag.tasks.contains(where: \.dependsOnPast), runInstances.contains(where: { $0.state == .none }),
               let previous = try store.previousRun(dagId: dag.dagId, before: run.logicalDate) {
                previousStates = Dictionary(try store.taskInstances(dagId: dag.dagId, runId: previous.runId).map { ($0.key.taskId, $0.state) },
                                            uniquingKeysWith: { a, _ in a })
            }
            for action in RunPlanner.plan(dag: dag, run: run, instances: runInstances, previousRunStates: previousStates, now: now) {
                if case .setTaskState(let key, _, let to, _) = action, let index = position[key],
                   try apply(action, tryNumber: instances[index].tryNumber, now: now) {
                    instances[index].state = to
                } else if case .finishRun = action {
                    _ = try apply(action, tryNumber: nil, now: now)
                }
            }
            if let retry = RunPlanner.nextRetryTime(runInstances) { nextRetry = min(nextRetry ?? retry, retry) }
        }
        return (nextRetry, instances)
    }

    /// Persists one decision as a compare-and-set on the state and the try it was taken on; returns whether it took
    /// effect. Another node's scheduler may decide the same at the same time: one wins, the other's does nothing.
    @discardableResult
    func apply(_ action: SchedulerAction, tryNumber: Int?, now: Date) throws -> Bool {
        switch action {
        case .setTaskState(let key, let from, let to, let note):
            return try store.update(key, .decided(from: from, to: to, note: note, tryNumber: tryNumber, at: now))
        case .finishRun(let dagId, let runId, let state):
            // Finished once: only the scheduler whose compare-and-set moved the run queues its notification.
            guard try store.updateRunState(dagId: dagId, runId: runId, expecting: [.running], to: state, at: now) else { return false }
            try queueRunFinished(dagId: dagId, runId: runId, state: state, now: now)
            // A finished run frees a max_active_runs slot: start the next queued run now, not at the next event.
            pendingWake = true
            log(state == .success ? .info : .warning, "run finished", [("dag", dagId), ("run", runId), ("state", state.rawValue)])
            return true
        }
    }

    /// Takes a reloaded configuration: the connections new workers may be granted, and the parallelism.
    /// Running tasks are not touched.
    public func applyReload(connections: [String: String], parallelism: Int) {
        self.connections = connections
        self.parallelism = parallelism
    }

    /// Whether every run in scope has finished (for a scheduler that drains a fixed set of runs).
    public func scopeFinished() throws -> Bool {
        guard case .runs(let refs) = settings.scope else { return false }
        for ref in refs {
            guard let run = try store.run(dagId: ref.dagId, runId: ref.runId) else { continue }
            if !run.state.isFinished { return false }
        }
        return runningWorkers == 0
    }
}
