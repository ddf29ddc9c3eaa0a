import ArgumentParser
import Executor
import Foundation
import PostgresAttemptStore
import PostgresClient
import StoreAddress
import MetadataStore
import Scheduler
import WorkerCore
import Workflow

/// Options of the commands that run a scheduler (daemon, backfill without a daemon, test).
struct ExecutionOptions: ParsableArguments {
    @Option(help: "Task instances running at once across all DAGs (env ORCHESTRATOR_PARALLELISM; default 32).")
    var parallelism: Int?

    @Option(help: "After SIGTERM, how long running tasks may finish before they are terminated, e.g. 60s, 5m (env ORCHESTRATOR_GRACE_PERIOD).")
    var gracePeriod: String?

    @Option(help: "Log level: debug, info, warning, error (env ORCHESTRATOR_LOG_LEVEL; default info).")
    var logLevel: String?

    @Option(help: "The lake: a folder, file:///path or s3://bucket/prefix (env ORCHESTRATOR_LAKE, configuration lake:; default HOME/lake).")
    var lake: String?

    /// Flags first, then the configuration (file and environment) when the daemon loaded one, then the environment.
    func resolvedParallelism(_ configuration: Configuration? = nil) throws -> Int {
        let text = parallelism.map(String.init) ?? configuration?.value("parallelism") ?? ProcessInfo.processInfo.environment["ORCHESTRATOR_PARALLELISM"]
        guard let text else { return 32 }
        guard let value = Int(text), DagLimits.parallelism.contains(value) else {
            throw CLIError("parallelism '\(text)' must be a whole number \(DagLimits.describe(DagLimits.parallelism))")
        }
        return value
    }

    /// `node_name:` or ORCHESTRATOR_NODE_NAME, else the host name; refused unless it is a valid `NodeName`.
    func resolvedNodeName(_ configuration: Configuration? = nil) throws -> String {
        let configured = [configuration?.value("node_name"), ProcessInfo.processInfo.environment["ORCHESTRATOR_NODE_NAME"]]
            .compactMap { $0 }.first { !$0.isEmpty }
        let name = configured ?? SystemInfo.hostname
        if let problem = NodeName.problem(name) {
            let source = configured == nil ? "the host name" : "node name"
            let shown = String(name.unicodeScalars.prefix(80).map { $0.isASCII && $0.value >= 0x20 && $0.value < 0x7f ? Character($0) : "?" })
            throw CLIError("\(source) '\(shown)' \(problem); set ORCHESTRATOR_NODE_NAME (or node_name:) to a name of letters, digits, '.', '-' or '_'")
        }
        return name
    }

    /// `node_timeout:` or ORCHESTRATOR_NODE_TIMEOUT, default 30 s.
    func resolvedNodeTimeout(_ configuration: Configuration? = nil) throws -> Double {
        let text = [configuration?.value("node_timeout"), ProcessInfo.processInfo.environment["ORCHESTRATOR_NODE_TIMEOUT"]]
            .compactMap { $0 }.first { !$0.isEmpty }
        guard let text else { return 30 }
        guard let seconds = DurationParser.seconds(text), Configuration.nodeTimeoutBounds.contains(seconds) else {
            throw CLIError("node timeout '\(text)' is not a duration from 10s to 1h (try 30s)")
        }
        return seconds
    }

    /// `store_poll_interval:` or ORCHESTRATOR_STORE_POLL_INTERVAL, default 1 s.
    func resolvedStorePollInterval(_ configuration: Configuration? = nil) throws -> Double {
        let text = [configuration?.value("store_poll_interval"), ProcessInfo.processInfo.environment["ORCHESTRATOR_STORE_POLL_INTERVAL"]]
            .compactMap { $0 }.first { !$0.isEmpty }
        guard let text else { return SchedulerSettings.defaultStorePollInterval }
        guard let seconds = DurationParser.seconds(text), Configuration.storePollBounds.contains(seconds) else {
            throw CLIError("store poll interval '\(text)' is not a duration from 100ms to 1m (try 1s)")
        }
        return seconds
    }

    func resolvedGracePeriod(default fallback: Double, _ configuration: Configuration? = nil) throws -> Double {
        guard let text = gracePeriod ?? configuration?.value("grace_period") ?? ProcessInfo.processInfo.environment["ORCHESTRATOR_GRACE_PERIOD"] else { return fallback }
        guard let seconds = DurationParser.seconds(text) else { throw CLIError("grace period '\(text)' is not a duration (try 60s or 5m)") }
        guard seconds <= DagLimits.longestGracePeriod else { throw CLIError("grace period '\(text)' is more than 24 hours") }
        return seconds
    }

    func resolvedLogLevel(default fallback: SchedulerLog.Level, _ configuration: Configuration? = nil) throws -> SchedulerLog.Level {
        guard let text = logLevel ?? configuration?.value("log_level") ?? ProcessInfo.processInfo.environment["ORCHESTRATOR_LOG_LEVEL"] else { return fallback }
        guard let level = SchedulerLog.Level(rawValue: text) else {
            throw CLIError("log level '\(text)' is not one of debug, info, warning, error")
        }
        return level
    }
}



enum SchedulerSetup {
    /// The lean, static worker executable installed beside `orchestrator`. On PostgreSQL it sends its writes to this
    /// process over its attempt channel, and needs the worker linking libpq beside it for when this process is gone.
    static func binaries(for backend: StoreURL.Backend = .sqlite) throws -> (orchestrator: String, worker: String) {
        guard let executable = SystemInfo.executablePath else { throw CLIError("cannot find the orchestrator executable (/proc/self/exe)") }
        let folder = (executable as NSString).deletingLastPathComponent as NSString
        let names = backend == .postgres ? ["orchestrator-worker", "orchestrator-worker-postgres"] : ["orchestrator-worker"]
        for name in names where !FileManager.default.isExecutableFile(atPath: folder.appendingPathComponent(name)) {
            throw CLIError("the worker executable \(folder.appendingPathComponent(name)) is missing; install \(name) beside orchestrator")
        }
        return (executable, folder.appendingPathComponent("orchestrator-worker"))
    }

    /// As under the daemon: the configuration's pools go to the store, and the secrets it read from the environment
    /// leave the process (tasks get only the connections they name, from the scheduler's settings). For every
    /// command that runs a scheduler; call it once the configuration is loaded, before other threads start.
    static func applyConfiguration(_ configuration: Configuration, store: any MetadataStore) throws {
        protectSecrets()
        for (pool, slots) in configuration.pools { try store.setPool(name: pool, slots: slots) }
    }

    /// Scrubs the secret variables from the environment, including the block /proc/PID/environ shows, and makes
    /// the process non-dumpable, so that no task (same user) reads them from this process.
    static func protectSecrets() {
        // ORCHESTRATOR_STORE may hold a password, so it goes too: remember which store this process was started on.
        GlobalOptions.rememberLaunchStore()
        LakeCredentials.remember()
        ProcessSecrets.scrubEnvironment(where: Configuration.isSecretVariable(name:value:))
        ProcessSecrets.makeNonDumpable()
    }

    static func settings(global: GlobalOptions, execution: ExecutionOptions, home: HomeLayout? = nil, scope: SchedulerScope,
                         gracePeriod: Double, tee: Bool = false, configuration: Configuration? = nil) throws -> SchedulerSettings {
        // A scheduler for another home (a test run's scratch home) keeps that home's own SQLite store.
        let store = home == nil ? try global.storeURL() : nil
        let (orchestrator, worker) = try binaries(for: store?.backend ?? .sqlite)
        var settings = SchedulerSettings(
            home: home ?? global.layout, dagsFolder: global.dagsPath, parallelism: try execution.resolvedParallelism(configuration),
            gracePeriod: gracePeriod, workerPath: worker, orchestratorPath: orchestrator, scope: scope, tee: tee)
        settings.connections = configuration?.connections ?? [:]
        settings.nodeName = try execution.resolvedNodeName(configuration)
        settings.nodeTimeout = try execution.resolvedNodeTimeout(configuration)
        settings.storePollInterval = try execution.resolvedStorePollInterval(configuration)
        // Workers get it in their argv, which any local user can read: never with its password.
        if let store { settings.storeURL = store.withoutPassword }
        // The password (user info or `?password=`) goes to the workers in their environment; libpq reads PGPASSWORD.
        // (The workers keep it for their fallback helper, which opens the store if this process is gone.)
        if let store, store.backend == .postgres {
            if let password = store.password { settings.storeEnvironment["PGPASSWORD"] = password }
            if let passphrase = store.sslPassword { settings.storeEnvironment[StoreURL.sslPasswordVariable] = passphrase }
            // This process answers its workers' writes with a connection of its own (docs/decisions/0016).
            settings.attemptStoreForWorkers = { () throws(AttemptStoreError) -> any AttemptStore in
                try PostgresAttemptStore(url: store, sslPassword: store.sslPassword, applicationName: "orchestrator attempt channels",
                                         prepares: true)
            }
        }
        // The lake's S3 keys go to the transforms only (a command task never sees them).
        settings.lakeEnvironment = LakeCredentials.environment
        // Tasks inherit the lake through the environment (`orchestrator test` exports its own, see TestOutputs).
        if home == nil { setenv("ORCHESTRATOR_LAKE", LakeSetting.resolve(flag: execution.lake, configuration, home: global.layout), 1) }
        if home == nil, let warehouse = WarehouseSetting.resolve(configuration) { setenv("ORCHESTRATOR_WAREHOUSE", warehouse, 1) }
        return settings
    }
}
