import ArgumentParser
import Foundation
import MetadataStore
import Scheduler
import WorkerCore
import Workflow

extension OrchestratorCommand {
    struct Test: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run one DAG run in the foreground, without a daemon, printing task output live.",
            discussion: """
                As Airflow's `dags test`: the tasks run for real against the home's lake, warehouse and work databases
                (or ORCHESTRATOR_LAKE / ORCHESTRATOR_WAREHOUSE), so testing day D and then D+1 behaves like production.
                Only the run's record and logs are kept apart, in a folder of their own under HOME/test-runs/ (the daemon
                and the web pages never see them; the last 20 are kept). --scratch runs everything, lake and warehouse included, in a fresh
                scratch home instead, touching nothing of the real one. Retries and timeouts apply as in production.
                Exits 1 if the run fails.
                """)
        @OptionGroup var global: GlobalOptions
        @Argument(help: "DAG id.") var dagId: String
        @Option(help: "Logical date, in the DAG's time zone (default: now).") var date: String?
        @Option(name: .customLong("param"), help: "Override a declared param: NAME=VALUE (repeatable).") var params: [String] = []
        @Flag(help: "Run in a scratch home (store, logs, lake, warehouse), leaving the real home untouched.") var scratch = false
        @OptionGroup var execution: ExecutionOptions

        func run() throws {
            let dag = try global.loadDag(dagId)
            // Whole seconds: run ids and every listing show seconds, so that is what users can type back.
            let logicalDate = try date.map { try RunLookup.parseDate($0, dag: dag) } ?? Date(timeIntervalSince1970: Date().timeIntervalSince1970.rounded(.down))
            let overrides = try RunLookup.parseParams(params, dag: dag)
            let lake = LakeSetting.resolve(flag: execution.lake, try? global.configuration(), home: global.layout)
            let outputs = try TestOutputs.prepare(realHome: global.layout, scratch: scratch, dagId: dag.dagId, lake: lake,
                                                 warehouse: WarehouseSetting.resolve(try? global.configuration()))
            let layout = outputs.runHome
            if !scratch { print("test run folder: \(layout.home) (the last \(TestOutputs.keptTestRuns) are kept)") }
            // A test run has a scratch home, and so a SQLite store of its own, whatever store the real home uses.
            let store = try StoreFactory.open(.sqlite(path: layout.storePath))
            try store.registerDag(dagId: dag.dagId, fileLocation: dag.filePath, at: Date())
            let (run, instances) = RunCreation.makeRun(
                dag: dag, logicalDate: logicalDate, interval: dag.timetable.dataInterval(forManual: logicalDate),
                type: .manual, params: overrides, now: Date())
            _ = try store.createRun(run, taskInstances: instances)
            let configuration = try global.configuration()
            try SchedulerSetup.applyConfiguration(configuration, store: store)

            let settings = try SchedulerSetup.settings(
                global: global, execution: execution, home: layout, scope: .runs([RunRef(dagId: dag.dagId, runId: run.runId)]),
                gracePeriod: try execution.resolvedGracePeriod(default: 0, configuration), tee: true, configuration: configuration)
            let log = SchedulerLog(minimumLevel: try execution.resolvedLogLevel(default: .info))
            let scheduler = Scheduler(store: store, settings: settings, log: log, folder: DagFolder.load(path: global.dagsPath))
            do {
                try SchedulerLoop(scheduler: scheduler, settings: settings, log: log).run(watchDags: false)
            } catch let error as SchedulerLockError {
                throw CLIError(error.message)
            }

            let final = try store.run(dagId: dag.dagId, runId: run.runId)
            let order = Dictionary(dag.tasks.enumerated().map { ($1.id, $0) }, uniquingKeysWith: { a, _ in a })
            let results = try store.taskInstances(dagId: dag.dagId, runId: run.runId)
                .sorted { (order[$0.key.taskId] ?? .max) < (order[$1.key.taskId] ?? .max) }
            print("")
            print(Output.table(["TASK", "STATE", "TRY", "DURATION", "NOTE"], results.map {
                [$0.key.taskId, $0.state.rawValue, "\($0.tryNumber)/\($0.maxTries)", Output.seconds($0.duration), $0.note ?? ""]
            }))
            let state = final?.state.rawValue ?? "unknown"
            print("run \(run.runId): \(state) (logs in \(layout.logsFolder))")
            print("outputs: lake \(outputs.lake), warehouse \(outputs.warehouse), work databases \(outputs.work)")
            if final?.state != .success { throw ExitCode.failure }
        }
    }
}
