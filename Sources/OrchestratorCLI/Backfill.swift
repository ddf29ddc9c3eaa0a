import ArgumentParser
import Foundation
import MetadataStore
import Scheduler
import WorkerCore
import Workflow

extension OrchestratorCommand {
    struct Backfill: ParsableCommand {
        /// The most logical dates one backfill covers (a year of 5-minute runs is 105,120).
        static let maxLogicalDates = 100_000

        static let configuration = CommandConfiguration(
            abstract: "Run a DAG for the logical dates of its schedule from --start to --end, both inclusive.",
            discussion: """
                By default only the dates without a run get one. --rerun-failed also re-runs the failed tasks (and those
                that ended upstream_failed) of the failed runs in the range; --reset re-runs every finished run in the
                range from scratch. If a daemon runs on the same home it executes the runs and this command follows
                them; otherwise, or as soon as a followed daemon dies, this command executes them itself, until a
                daemon starts again: that daemon asks for the scheduler lock, gets it within a pass, adopts the running
                tasks, and this command follows it again. Exits 1 if any run in the range ends failed.
                """)
        @OptionGroup var global: GlobalOptions
        @Argument(help: "DAG id.") var dagId: String
        @Option(help: "First logical date, in the DAG's time zone (a plain date is local midnight there).") var start: String
        @Option(help: "Last logical date (inclusive), in the DAG's time zone (a plain date is local midnight there).")
        var end: String
        @Flag(help: "Also re-run the failed runs in the range (their failed and upstream_failed tasks).") var rerunFailed = false
        @Flag(help: "Re-run every finished run in the range from scratch.") var reset = false
        @Flag(help: "List every logical date with its data interval and what would be done; change nothing.") var dryRun = false
        @Option(help: "With --dry-run: list at most this many dates (default \(BackfillDryRun.defaultLimit)).") var limit: Int?
        @Flag(help: "With --dry-run: print the whole plan as JSON.") var json = false
        @Option(help: "Runs of this backfill active at once (default: the DAG's max_active_runs).") var maxActiveRuns: Int?
        @Option(name: .customLong("param"), help: "Override a declared param in the runs it creates: NAME=VALUE (repeatable).")
        var params: [String] = []
        @OptionGroup var execution: ExecutionOptions

        func validate() throws {
            // The same bounds as a DAG's max_active_runs: the store keeps it and the scheduler counts against it.
            if let maxActiveRuns, !DagLimits.activeLimit.contains(maxActiveRuns) {
                throw ValidationError("--max-active-runs must be a whole number \(DagLimits.describe(DagLimits.activeLimit))")
            }
            if let limit, limit < 1 { throw ValidationError("--limit must be at least 1") }
            if (json || limit != nil) && !dryRun { throw ValidationError("--json and --limit describe a --dry-run; add --dry-run") }
        }

        func run() throws {
            let dag = try global.loadDag(dagId)
            guard dag.timetable.cron != nil else {
                throw CLIError("DAG '\(dag.dagId)' has no schedule, so it has no dates to backfill; use: orchestrator trigger \(dag.dagId) --date D")
            }
            let startDate = try RunLookup.parseDate(start, dag: dag, option: "--start")
            let endDate = try RunLookup.parseDate(end, dag: dag, option: "--end")
            guard startDate <= endDate else { throw CLIError("--start \(start) is after --end \(end)") }
            let dates = dag.timetable.logicalDates(from: startDate, through: endDate, limit: Self.maxLogicalDates)
            // The timetable stops at the limit: a range holding more dates is refused, never cut short in silence.
            if dates.count == Self.maxLogicalDates, let following = dates.last.flatMap(dag.timetable.next(after:)), following <= endDate {
                throw CLIError("the range \(start) to \(end) holds more than \(Self.maxLogicalDates) logical dates of '\(dag.dagId)'; backfill it in smaller ranges")
            }
            guard !dates.isEmpty else { throw CLIError("the schedule of '\(dag.dagId)' has no logical date between \(start) and \(end)") }
            let overrides = try RunLookup.parseParams(params, dag: dag)

            let inRange = RunFilter(dagId: dag.dagId, logicalDateFrom: startDate, logicalDateThrough: endDate)
            if dryRun {
                let existing = try BackfillDryRun.existingRuns(store: global.storeURL(), filter: inRange)
                let plan = BackfillPlanner.plan(logicalDates: dates, existing: existing, rerunFailed: rerunFailed, reset: reset)
                describe(plan, dag: dag)
                let listing = BackfillDryRun(plan: plan, logicalDates: dates, timetable: dag.timetable)
                if json { try Output.printJSON(listing.json) } else { print(listing.text(limit: limit)) }
                return
            }
            let store = try global.openStore()
            let existing = try store.runs(inRange)
            let plan = BackfillPlanner.plan(logicalDates: dates, existing: existing, rerunFailed: rerunFailed, reset: reset)
            describe(plan, dag: dag)

            try store.registerDag(dagId: dag.dagId, fileLocation: dag.filePath, at: Date())
            // Before the runs are created: 8,760 of them wrote 350 MB of WAL before the first checkpoint.
            (store as? any BackgroundMaintenance)?.startBackgroundMaintenance()
            let now = Date()
            let limit = maxActiveRuns ?? dag.maxActiveRuns
            let backfillId = try store.createBackfill(dagId: dag.dagId, start: startDate, end: endDate, maxActiveRuns: limit, at: now)
            for date in plan.create {
                guard let interval = dag.timetable.dataInterval(forScheduled: date) else { continue }
                let (run, instances) = RunCreation.makeRun(dag: dag, logicalDate: date, interval: interval, type: .backfill,
                                                           params: overrides, backfillId: backfillId, now: now)
                _ = try store.createRun(run, taskInstances: instances)
            }
            let extraTries = Dictionary(uniqueKeysWithValues: dag.tasks.map { ($0.id, $0.retry.maxTries) })
            for run in plan.rerunFailed {
                let failed = try store.taskInstances(dagId: dag.dagId, runId: run.runId)
                    .filter { $0.state == .failed || $0.state == .upstreamFailed }.map(\.key.taskId)
                try store.assignRuns(dagId: dag.dagId, runIds: [run.runId], toBackfill: backfillId)
                _ = try store.clearTaskInstances(dagId: dag.dagId, runId: run.runId, taskIds: Set(failed), extraTries: extraTries, at: now)
            }
            for run in plan.reset {
                let all = try store.taskInstances(dagId: dag.dagId, runId: run.runId).map(\.key.taskId)
                try store.assignRuns(dagId: dag.dagId, runIds: [run.runId], toBackfill: backfillId)
                _ = try store.clearTaskInstances(dagId: dag.dagId, runId: run.runId, taskIds: Set(all), extraTries: extraTries, at: now)
            }

            let onSchedule = Set(dates)
            let progress = BackfillProgress(store: store, filter: inRange, logicalDates: onSchedule, label: "backfill \(dag.dagId)")
            if plan.startsWork || !plan.inProgress.isEmpty {
                try execute(progress: progress, store: store, filter: inRange, onSchedule: onSchedule)
            }
            let summary = try progress.counts()
            FileHandle.standardError.write(Data("\(progress.label): \(summary.line)\n".utf8))
            if summary.failed > 0 {
                let hint = rerunFailed || reset ? "" : " (re-run them with --rerun-failed)"
                throw CLIError("\(summary.failed) run\(summary.failed == 1 ? "" : "s") in the range failed\(hint)")
            }
        }

        /// Hands the runs to the daemon and follows them, or runs a scheduler for them here. A followed daemon that
        /// dies (its scheduler lock is free again) is noticed within a second, and this command takes over the
        /// remaining runs: it adopts the tasks still running and retries or fails the abandoned ones, as a daemon would.
        /// Without a daemon on this home, live nodes of the store (another machine's daemons) get the runs instead:
        /// they find them by polling the store; when the last of them goes silent for node_timeout, this command
        /// takes over likewise.
        func execute(progress: BackfillProgress, store: any MetadataStore, filter: RunFilter, onSchedule: Set<Date>) throws {
            let layout = global.layout
            let loaded = try global.configuration()
            // (A host name that is no node name is refused only if this command comes to run a scheduler itself.)
            let nodes = LiveNodes(timeout: try execution.resolvedNodeTimeout(loaded), ownName: (try? execution.resolvedNodeName(loaded)) ?? "")
            let daemonAlive = { store.schedulerLeaseHolder(layout.schedulerLeaseRequest) != nil }
            // A store that cannot be read right now keeps the nodes as alive: this command must not run the runs
            // beside them on a hiccup.
            var lastNodes: [NodeRecord] = []
            let nodesAlive = {
                if let alive = try? nodes.alive(in: store) { lastNodes = alive }
                return !lastNodes.isEmpty
            }
            var configured = false
            var refusals = 0
            while true {
                if let pid = RunLookup.wakeDaemon(layout, leases: store) {
                    if try progress.follow(while: daemonAlive) == .finished { return }
                    let next = nodesAlive() ? "the other nodes have the runs" : "running the remaining runs here"
                    FileHandle.standardError.write(Data("\(progress.label): the daemon (pid \(pid)) is gone; \(next)\n".utf8))
                }
                if !daemonAlive(), nodesAlive() {
                    let names = lastNodes.map(\.name).sorted().joined(separator: ", ")
                    FileHandle.standardError.write(Data("\(progress.label): handing the runs to the nodes \(names)\n".utf8))
                    // A daemon started on this home meanwhile is followed as above.
                    if try progress.follow(while: { nodesAlive() && !daemonAlive() }) == .finished { return }
                    if daemonAlive() { continue }
                    FileHandle.standardError.write(Data("\(progress.label): no node is alive (none heartbeat for \(Int(nodes.timeout))s); running the remaining runs here\n".utf8))
                }
                // A daemon that asked for the lock is about to take it (this command just handed it over): wait for it.
                if SchedulerHandover.pendingRequester(layout) != nil {
                    Thread.sleep(forTimeInterval: 0.1)
                    continue
                }
                let refs = try store.runs(filter).filter { onSchedule.contains($0.logicalDate) && !$0.state.isFinished }
                    .map { RunRef(dagId: $0.dagId, runId: $0.runId) }
                if refs.isEmpty { return }
                // Once: it also takes the secrets out of this process's environment.
                if !configured { try SchedulerSetup.applyConfiguration(loaded, store: store) }
                configured = true
                let settings = try SchedulerSetup.settings(global: global, execution: execution, scope: .runs(Set(refs)),
                                                           gracePeriod: try execution.resolvedGracePeriod(default: 0, loaded),
                                                           configuration: loaded)
                let log = SchedulerLog(minimumLevel: try execution.resolvedLogLevel(default: .warning))
                let scheduler = Scheduler(store: store, settings: settings, log: log, folder: try global.loadFolder())
                let reporter = progress.startReporting()
                defer { reporter.stop() }
                let loop = SchedulerLoop(scheduler: scheduler, settings: settings, log: log)
                // A daemon started meanwhile asks for the lock: hand it over and follow that daemon.
                loop.stepDownRequested = { SchedulerHandover.pendingRequester(layout) != nil }
                do {
                    if try loop.run(watchDags: false) == .finished { return }
                    let requester = SchedulerHandover.pendingRequester(layout).map { " (pid \($0))" } ?? ""
                    FileHandle.standardError.write(Data("\(progress.label): a daemon\(requester) started; handing the runs over to it\n".utf8))
                } catch let error as SchedulerLockError {
                    // A daemon started meanwhile (or is writing its pid): follow it once it is up. With none on this
                    // home for 5 s, the store refused: a live scheduler elsewhere has this node's name.
                    refusals = daemonAlive() || SchedulerHandover.pendingRequester(layout) != nil ? 0 : refusals + 1
                    if refusals >= 50 { throw CLIError(error.message) }
                    Thread.sleep(forTimeInterval: 0.1)
                }
            }
        }

        func describe(_ plan: BackfillPlan, dag: DAG) {
            let zone = dag.timetable.timeZone
            func list(_ dates: [Date]) -> String {
                let days = dates.map { DateParsing.iso($0, in: zone) }
                return days.count <= 6 ? days.joined(separator: ", ")
                    : days.prefix(3).joined(separator: ", ") + ", … " + days.suffix(2).joined(separator: ", ")
            }
            var lines: [String] = []
            let verb = dryRun ? "would" : "will"
            if !plan.create.isEmpty { lines.append("\(verb) create \(plan.create.count) run(s): \(list(plan.create))") }
            if !plan.rerunFailed.isEmpty {
                lines.append("\(verb) re-run the failed tasks of \(plan.rerunFailed.count) failed run(s): \(list(plan.rerunFailed.map(\.logicalDate)))")
            }
            if !plan.reset.isEmpty { lines.append("\(verb) reset \(plan.reset.count) run(s): \(list(plan.reset.map(\.logicalDate)))") }
            if !plan.inProgress.isEmpty { lines.append("\(plan.inProgress.count) run(s) already in progress, followed") }
            if !plan.unchanged.isEmpty {
                let failed = plan.unchanged.filter { $0.state == .failed }.count
                lines.append("\(plan.unchanged.count) finished run(s) left as they are" + (failed > 0 ? " (\(failed) failed)" : ""))
            }
            if !plan.startsWork && plan.inProgress.isEmpty { lines.append("nothing to run") }
            FileHandle.standardError.write(Data(lines.map { "backfill \(dag.dagId): \($0)\n" }.joined().utf8))
        }
    }
}

/// Counts the runs of a backfill's range and prints a progress line when they change.
final class BackfillProgress: @unchecked Sendable {
    struct Counts: Equatable {
        var total = 0, success = 0, failed = 0, running = 0, queued = 0
        var finished: Int { success + failed }
        var line: String {
            "\(finished)/\(total) finished (\(success) success, \(failed) failed), \(running) running, \(queued) queued"
        }
    }

    let store: any MetadataStore
    let filter: RunFilter
    let logicalDates: Set<Date>
    let label: String
    private let lock = NSLock()
    /// Bumped by `stop()`: a reporter runs while the generation it started in lasts (a backfill may report twice).
    private var generation = 0

    init(store: any MetadataStore, filter: RunFilter, logicalDates: Set<Date>, label: String) {
        self.store = store
        self.filter = filter
        self.logicalDates = logicalDates
        self.label = label
    }

    func counts() throws -> Counts {
        var counts = Counts()
        for run in try store.runs(filter) where logicalDates.contains(run.logicalDate) {
            counts.total += 1
            switch run.state {
            case .success: counts.success += 1
            case .failed: counts.failed += 1
            case .running: counts.running += 1
            case .queued: counts.queued += 1
            }
        }
        return counts
    }

    enum FollowOutcome: Equatable { case finished, daemonGone }

    /// Waits, printing progress, until no run of the range is queued or running (the daemon executes them), or
    /// until `daemonAlive` says the daemon is gone: then nothing would ever finish them, so the caller must.
    func follow(while daemonAlive: () -> Bool) throws -> FollowOutcome {
        var last: Counts?
        while true {
            let now = try counts()
            if now != last { print(now) }
            last = now
            if now.running == 0 && now.queued == 0 { return .finished }
            if !daemonAlive() { return .daemonGone }
            Thread.sleep(forTimeInterval: 0.5)  // the follower polls; the scheduler itself is event-driven
        }
    }

    /// Prints progress once a second from a background thread while this process runs the scheduler.
    func startReporting() -> BackfillProgress {
        let started = lock.withLock { generation }
        let thread = Thread { [self] in
            var last: Counts?
            while lock.withLock({ generation }) == started {
                if let now = try? counts(), now != last {
                    print(now)
                    last = now
                }
                Thread.sleep(forTimeInterval: 1)
            }
        }
        thread.start()
        return self
    }

    func stop() { lock.withLock { generation += 1 } }


    private func print(_ counts: Counts) {
        FileHandle.standardError.write(Data("\(label): \(counts.line)\n".utf8))
    }
}
