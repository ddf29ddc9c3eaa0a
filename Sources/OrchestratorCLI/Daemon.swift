import ArgumentParser
import Executor
import Foundation
import MetadataStore
import Notifications
import WebStatus
import Workflow
import Scheduler
import SecretMasking

extension OrchestratorCommand {
    struct Daemon: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run the scheduler: create runs from schedules and start their tasks as child processes.",
            discussion: """
                SIGTERM or SIGINT stops it: no new task starts, running tasks get the grace period to finish, then are
                terminated. SIGHUP reloads the DAG folder (changes to it are also picked up by themselves).
                """)
        @OptionGroup var global: GlobalOptions
        @OptionGroup var execution: ExecutionOptions
        @Flag(help: "Do not watch the DAG folder; reload it on SIGHUP only.") var noWatch = false

        static func targets(_ configuration: Configuration) -> [String: WebhookSender.Target] {
            configuration.notificationTargets.mapValues { WebhookSender.Target(url: $0.url, slack: $0.slack) }
        }

        func run() throws {
            try global.checkStoreFlagHasNoPassword(refuse: true)
            // What the service manager gave the daemon, secrets included: on a reload its variables still win over
            // the file, as they did at start. Kept in memory only.
            let launchEnvironment = ProcessInfo.processInfo.environment
            let configuration = try global.configuration(environment: launchEnvironment)
            // The web token and the connections are the daemon's alone: out of its environment (and of the block
            // /proc/PID/environ shows) before any thread or task starts; tasks get only the connections they name.
            SchedulerSetup.protectSecrets()
            _ = try global.loadFolder()  // a missing DAG folder is a start-up error, not a silent empty daemon
            // A backfill that took over from a dead daemon hands its lock to this one within a pass (≤ 10 s here):
            // a restarted daemon serves at once instead of failing for the rest of the backfill.
            let home = global.layout
            let store = try global.openStore()
            SchedulerHandover.requestFromBackfill(home, leases: store, timeout: 10)
            defer { SchedulerHandover.withdraw(home) }
            let settings = try SchedulerSetup.settings(global: global, execution: execution, scope: .everything,
                                                       gracePeriod: try execution.resolvedGracePeriod(default: 60, configuration),
                                                       configuration: configuration)
            let log = SchedulerLog(minimumLevel: try execution.resolvedLogLevel(default: .info, configuration),
                                   format: configuration.value("log_format") == "json" ? .json : .logfmt)
            // Connections of the file reach transforms through the workers' environment; pools go to the store.
            try SchedulerSetup.applyConfiguration(configuration, store: store)
            (store as? any BackgroundMaintenance)?.startBackgroundMaintenance()
            let scheduler = Scheduler(store: store, settings: settings, log: log)
            // The lease first: a second daemon of this home, or of this node name on a shared store, is refused
            // before it touches the node's row, its web port or the outbox.
            let lease: any SchedulerLease
            do {
                lease = try SchedulerLoop.acquireLease(store: store, home: home, nodeName: settings.nodeName)
            } catch let error as SchedulerLockError {
                throw CLIError(error.message)
            }
            defer { lease.release() }
            let node = NodeHeartbeat(store: store, name: settings.nodeName, log: log)
            let sender = WebhookSender(
                store: store, named: Self.targets(configuration),
                log: { message, fields in log(.warning, message, fields) })
            sender.start()
            scheduler.onNotificationQueued = { sender.poke() }
            // The status pages read the DAGs from other threads: hand them a copy after each load.
            let loadedDags = LockedValue<[DAG]>([])
            scheduler.onDagsLoaded = { loadedDags.set($0) }
            let passLatency = LatencyRecorder(buckets: StatusServer.loopBuckets)
            var webServer: StatusServer?
            var advertised: NodeAddress?
            // Every configured connection's password is masked in the logs the web side serves, even printed bare.
            let servedSecrets = KnownSecrets(KnownSecrets.ofConnections(configuration.connections.values))
            if configuration.value("web_address") != "off", let (host, port) = Configuration.hostAndPort(configuration.value("web_address")) {
                let layout = settings.home
                let token = configuration.value("web_token")
                var setup = StatusServerSetup(
                    host: host, port: port, logsFolder: layout.logsFolder,
                    logPath: { layout.logPath(dagId: $0.dagId, runId: $0.runId, taskId: $0.taskId, tryNumber: $1) },
                    resultPath: { layout.resultPath(dagId: $0.dagId, runId: $0.runId, taskId: $0.taskId, tryNumber: $1) },
                    token: token, actions: token.isEmpty ? nil : WebActions(store: store, dags: { loadedDags.get() }),
                    loopLatency: { passLatency.snapshot() })
                setup.knownSecrets = servedSecrets
                setup.nodeHealth = { node.health }
                setup.nodeName = settings.nodeName
                setup.nodeToken = configuration.value("node_token")
                setup.limits = try configuration.webLimits()
                setup.log = { warning, message, fields in log(warning ? .warning : .info, message, fields) }
                // Pages read through a connection of their own, so they never wait behind the scheduler's writes.
                let pagesStore = try global.openStore(readOnly: true)
                // The address other nodes use names this server: it answers to that name too (the Host check).
                let address = try configuration.advertisedAddress(bindHost: host, boundPort: nil, configuredPort: port)
                if let address, !setup.limits.allowedHosts.contains(address.host) { setup.limits.allowedHosts.append(address.host) }
                let server = StatusServer(store: pagesStore, setup: setup, dags: { loadedDags.get() })
                // A busy port does not stop the daemon: the server retries with backoff and says so in the log,
                // the systemd status line and, once bound, /healthz and /metrics.
                let bound = server.start()
                webServer = server
                // Port 0 (tests) is known once bound; a busy port 0 leaves the node without an address until a restart.
                advertised = try configuration.advertisedAddress(bindHost: host, boundPort: bound, configuredPort: port)
            }
            // Registered before anything is scheduled, so other nodes see who claims what, and where its logs are.
            let nodeAddress = advertised?.description
            if let advertised, advertised.isLoopback, !configuration.value("node_token").isEmpty {
                log(.warning, "only this machine reaches this node's logs at a loopback address; set advertise_url for other machines",
                    [("advertised", advertised.description)])
            }
            try node.start(address: nodeAddress)
            defer { node.stop() }
            // SwiftNIO's listening socket, epoll and pipes are not all close-on-exec; the spawn closes them in each
            // worker anyway, and this covers anything that forks on its own.
            OpenDescriptors.markCloseOnExec()
            let loop = SchedulerLoop(scheduler: scheduler, settings: settings, log: log)
            loop.passLatency = passLatency
            let systemd = SystemdNotifier()
            let status = { () -> String in
                let dags = (try? store.dags().count) ?? 0
                let running = (try? store.runs(RunFilter(states: [.running])).count) ?? 0
                let tasks = (try? store.taskInstances(states: [.queued, .running]).count) ?? 0
                let errors = (try? store.importErrors().count) ?? 0
                let failedNotifications = (try? store.notificationCounts().failed) ?? 0
                return "\(dags) DAGs, \(running) runs running, \(tasks) tasks running" + (errors > 0 ? ", \(errors) DAG files failing" : "")
                    + (failedNotifications > 0 ? ", \(failedNotifications) notifications failed" : "")
                    + (webServer.map(\.bindStatus).flatMap { $0.port == nil ? ", web not listening (\($0.lastError ?? "starting"); retrying)" : nil } ?? "")
            }
            loop.onReady = {
                SchedulerHandover.withdraw(home)  // the lock is ours: a backfill that handed it over may follow us now
                OpenDescriptors.markCloseOnExec()  // the scheduler lock, the store, inotify: opened since the first sweep
                log(.info, "daemon ready", [("node", settings.nodeName), ("advertised", nodeAddress ?? "none"), ("home", settings.home.home),
                                            ("dags", settings.dagsFolder), ("pid", String(getpid())),
                                            ("parallelism", String(settings.parallelism)),
                                            ("dumpable", ProcessSecrets.isDumpable ? "yes" : "no")])
                systemd.notify("READY=1\nSTATUS=\(status())\nMAINPID=\(getpid())")
                if ProcessInfo.processInfo.environment["ORCHESTRATOR_KEEP_STARTUP_CODE"] == nil { StartupMemory.releaseExecutableCode() }
            }
            loop.onStopping = { systemd.notify("STOPPING=1\nSTATUS=stopping: waiting for running tasks") }
            loop.onReload = { [global, execution] in
                // SIGHUP: re-read the configuration; running tasks are not touched. Home, DAG folder and web stay.
                do {
                    let fresh = try global.configuration(environment: launchEnvironment)
                    let parallelism = try execution.resolvedParallelism(fresh)
                    for (pool, slots) in fresh.pools { try store.setPool(name: pool, slots: slots) }
                    sender.updateTargets(Self.targets(fresh))
                    // Connections are granted per task from the configuration, never exported: a connection gone
                    // from the file is gone for new tasks.
                    scheduler.applyReload(connections: fresh.connections, parallelism: parallelism)
                    servedSecrets.set(KnownSecrets.ofConnections(fresh.connections.values))
                    log(.info, "configuration reloaded", [("file", fresh.file ?? "none")])
                } catch {
                    log(.error, "configuration not reloaded; keeping the previous one", [("error", "\(error)")])
                }
            }
            if systemd.isActive {
                // Watchdog pings at half WatchdogSec; without a watchdog the status line is refreshed every 30 s.
                loop.heartbeatInterval = systemd.watchdogInterval ?? 30
                let watchdog = systemd.watchdogInterval != nil
                loop.onHeartbeat = { systemd.notify((watchdog ? "WATCHDOG=1\n" : "") + "STATUS=\(status())") }
            }
            do {
                try loop.run(watchDags: !noWatch, lease: lease)
            } catch let error as SchedulerLockError {
                throw CLIError(error.message)
            }
        }
    }
}
