import Dispatch
import Executor
import Foundation
import MetadataStore
import WorkerCore
#if canImport(Glibc)
import Glibc
#endif

public struct SchedulerLockError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}

/// Drives a `Scheduler` from one thread: holds the home's scheduler lock, turns signals, child exits and
/// DAG-folder changes into events, runs a pass after each batch of events, and shuts down gracefully.
public final class SchedulerLoop: @unchecked Sendable {
    let scheduler: Scheduler
    let settings: SchedulerSettings
    let log: SchedulerLog
    let events = EventQueue()
    var signalSources: [DispatchSourceSignal] = []
    /// How often orphaned attempts are looked for; adopted workers also wake the loop when they finish.
    let orphanCheckInterval: Double = 10
    /// Called once the DAGs are loaded and the loop is about to run (systemd readiness).
    public var onReady: () -> Void = {}
    /// Called on SIGHUP before the DAGs are reloaded (the daemon re-reads its configuration).
    public var onReload: () -> Void = {}
    /// Called when the loop stops taking new work (SIGTERM), before the grace period.
    public var onStopping: () -> Void = {}
    /// Called every `heartbeatInterval` seconds while the loop runs (systemd watchdog and status).
    public var onHeartbeat: () -> Void = {}
    public var heartbeatInterval: Double?
    /// Durations of the scheduler's passes, when someone wants them (the daemon's /metrics).
    public var passLatency: LatencyRecorder?
    /// Asked after each pass of a scoped loop: true makes it release the lock at once, leaving its workers running
    /// for whoever takes the lock next to adopt (a backfill handing over to a daemon started meanwhile).
    public var stepDownRequested: (() -> Bool)?

    public enum Outcome: Equatable { case finished, steppedDown }

    public init(scheduler: Scheduler, settings: SchedulerSettings, log: SchedulerLog) {
        self.scheduler = scheduler
        self.settings = settings
        self.log = log
    }

    /// Takes the store's scheduler lease for node `nodeName`; fails if a daemon or another backfill holds the home's,
    /// or a live scheduler of the same node name holds the store's.
    public static func acquireLease(store: any SchedulerLeaseStore, home: HomeLayout, nodeName: String) throws -> any SchedulerLease {
        do {
            return try store.acquireSchedulerLease(home.schedulerLeaseRequest(node: nodeName))
        } catch let error as StoreError where error.kind == .leaseHeld {
            throw SchedulerLockError(message: error.detail)
        }
    }

    /// Runs until SIGTERM/SIGINT (or, for a scoped scheduler, until its runs finish or it steps down). `lease`: one
    /// the caller took already (the daemon takes it before it registers as a node); else the loop takes it.
    @discardableResult
    public func run(watchDags: Bool, lease held: (any SchedulerLease)? = nil) throws -> Outcome {
        // Workers and the CLI wake whoever the pid file names, and SIGUSR1 terminates by default: the soak saw a
        // daemon killed by an adopted worker's wake-up between writing its pid and installing its handlers.
        signal(SIGUSR1, SIG_IGN)
        let lease = try held ?? Self.acquireLease(store: scheduler.store, home: settings.home, nodeName: settings.nodeName)
        defer { lease.release() }
        installSignals()
        startReaper()
        if watchDags { startWatcher() }
        scheduler.onSpawn = { Reaper.shared.spawned.signal() }
        if settings.scope == .everything { try scheduler.reloadDags() }
        try scheduler.recoverOrphans(now: Date())
        onReady()

        var stopping = false
        var nextOrphanCheck = Date().addingTimeInterval(orphanCheckInterval)
        var nextHeartbeat = heartbeatInterval.map { Date().addingTimeInterval($0) }
        while true {
            let now = Date()
            if let due = nextHeartbeat, now >= due, let interval = heartbeatInterval {
                onHeartbeat()
                nextHeartbeat = now.addingTimeInterval(interval)
            }
            if now >= nextOrphanCheck {
                scheduler.pruneAdopted()
                try scheduler.recoverOrphans(now: now)
                nextOrphanCheck = now.addingTimeInterval(orphanCheckInterval)
            }
            let next = try scheduler.pass(now: now, stopping: stopping)
            passLatency?.record(Date().timeIntervalSince(now))
            do {
                try lease.checkHeld(now: now)
            } catch {
                // Another scheduler may hold the lock by now: schedule nothing more; exit non-zero so that the
                // service manager starts this one again (it waits for the lock). Running workers go on.
                log(.error, "lost the scheduler lock: stepping down", [("error", "\(error)")])
                throw error
            }
            if try scheduler.scopeFinished() { break }
            if stopping { break }
            if let stepDownRequested, stepDownRequested() {
                log(.info, "handing the scheduler lock over; running tasks go on", [("tasks", String(scheduler.runningWorkers))])
                releaseSignals()
                return .steppedDown
            }
            // Also the store poll: a run unblocked or created by another node raises no event here.
            let nextPoll = Date().addingTimeInterval(settings.storePollInterval)
            let deadline = [next, nextOrphanCheck, nextHeartbeat, nextPoll].compactMap { $0 }.min()
            for event in events.wait(until: deadline) {
                switch event {
                case .childExited(let pid, let status): try scheduler.handleChildExit(pid: pid, status: status, now: Date())
                case .wake: break
                case .dagsChanged:
                    if settings.scope == .everything { try scheduler.reloadDags() }
                case .reload:
                    log(.info, "SIGHUP: reloading the configuration and the DAGs")
                    onReload()
                    if settings.scope == .everything { try scheduler.reloadDags() }
                case .terminate:
                    if !stopping { onStopping() }
                    stopping = true
                }
            }
        }
        try shutDown()
        return .finished
    }

    /// Lets running workers finish within the grace period, then terminates them; each records why.
    func shutDown() throws {
        let workers = scheduler.runningWorkers
        if workers > 0 {
            log(.info, "shutting down: waiting for running tasks", [("tasks", String(workers)), ("grace_period", "\(Int(settings.gracePeriod))s")])
        }
        let graceEnd = Date().addingTimeInterval(settings.gracePeriod)
        try waitForWorkers(until: graceEnd)
        if scheduler.runningWorkers > 0 {
            log(.warning, "grace period over: terminating running tasks", [("tasks", String(scheduler.runningWorkers))])
            for pid in Array(scheduler.children.keys) + Array(scheduler.adopted.keys) {
                ProcessLauncher.signalProcess(pid, SIGTERM)
            }
            try waitForWorkers(until: Date().addingTimeInterval(10))
        }
        log(.info, "scheduler stopped")
    }

    func waitForWorkers(until deadline: Date) throws {
        while scheduler.runningWorkers > 0, Date() < deadline {
            let checkAdopted = Date().addingTimeInterval(0.5)
            for event in events.wait(until: min(deadline, checkAdopted)) {
                if case .childExited(let pid, let status) = event {
                    try scheduler.handleChildExit(pid: pid, status: status, now: Date())
                }
            }
            scheduler.pruneAdopted()
            if heartbeatInterval != nil { onHeartbeat() }  // keep the watchdog fed through the grace period
        }
    }

    func installSignals() {
        let mapping: [(Int32, SchedulerEvent)] = [(SIGTERM, .terminate), (SIGINT, .terminate), (SIGUSR1, .wake), (SIGHUP, .reload)]
        for (number, event) in mapping {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { [events, log] in
                if event == .terminate { log(.info, "received \(signalName(number)); stopping") }
                events.post(event)
            }
            source.resume()
            signalSources.append(source)
        }
    }

    /// The signals go back to their defaults once the loop is gone: a backfill that stepped down still stops on ^C.
    func releaseSignals() {
        for source in signalSources { source.cancel() }
        signalSources = []
        for number in [SIGTERM, SIGINT, SIGHUP] { signal(number, SIG_DFL) }
    }

    /// Child exits go to the loop running now.
    func startReaper() { Reaper.shared.start(posting: events) }

    /// One thread per process waits for any child to exit and posts it, so a task's end wakes the loop at once. One
    /// only: a backfill can run several loops in turn (it hands the lock over and takes it back), and two threads
    /// in waitpid(-1) would take each other's children.
    final class Reaper: @unchecked Sendable {
        static let shared = Reaper()
        let spawned = DispatchSemaphore(value: 0)
        private let lock = NSLock()
        private var target: EventQueue?
        private var started = false

        func start(posting events: EventQueue) {
            let first = lock.withLock {
                target = events
                defer { started = true }
                return !started
            }
            guard first else { return }
            let thread = Thread { [self] in
                while true {
                    var status: Int32 = 0
                    let pid = waitpid(-1, &status, 0)
                    if pid > 0 {
                        lock.withLock { target }?.post(.childExited(pid: pid, status: ExitStatus(waitStatus: status)))
                    } else if errno == ECHILD {
                        spawned.wait()  // no children: sleep until one is started
                    }
                }
            }
            thread.start()
        }
    }

    /// inotify on the DAG folder: adding, editing or removing a file reloads the DAGs at once.
    func startWatcher() {
        let folder = settings.dagsFolder
        let fd = inotify_init1(Int32(IN_CLOEXEC))
        guard fd >= 0 else {
            log(.warning, "cannot watch the DAG folder; send SIGHUP to reload", [("folder", folder)])
            return
        }
        let mask = UInt32(IN_CREATE | IN_DELETE | IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_MODIFY | IN_ATTRIB)
        guard inotify_add_watch(fd, folder, mask) >= 0 else {
            log(.warning, "cannot watch the DAG folder; send SIGHUP to reload", [("folder", folder)])
            close(fd)
            return
        }
        let thread = Thread { [events] in
            var buffer = [UInt8](repeating: 0, count: 8192)
            while true {
                let count = read(fd, &buffer, buffer.count)
                if count < 0 && errno == EINTR { continue }
                if count <= 0 { return }
                events.post(.dagsChanged)
            }
        }
        thread.start()
    }
}
