import ArgumentParser
import Foundation
import MetadataStore
import Workflow

extension OrchestratorCommand {
    struct Tasks: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List or clear the task instances of a run.",
                                                        subcommands: [List.self, Clear.self])
    }
}

extension OrchestratorCommand.Tasks {
    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the task instances of the run at a logical date.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "DAG id.") var dagId: String
        @Option(help: "Logical date of the run.") var date: String
        @Flag(help: "Print JSON.") var json = false

        func run() throws {
            let dag = try global.loadDag(dagId)
            let store = try global.openStore()
            let run = try RunLookup.findRun(store: store, dag: dag, date: date)
            let order = Dictionary(dag.tasks.enumerated().map { ($1.id, $0) }, uniquingKeysWith: { a, _ in a })
            let instances = try store.taskInstances(dagId: dag.dagId, runId: run.runId)
                .sorted { (order[$0.key.taskId] ?? .max, $0.key.taskId) < (order[$1.key.taskId] ?? .max, $1.key.taskId) }
            if json {
                try Output.printJSON(instances.map(TaskInstanceJSON.init))
                return
            }
            print("\(run.runId)  \(run.state.rawValue)")
            print(Output.table(["TASK", "STATE", "TRY", "STARTED", "DURATION", "EXIT", "NOTE"], instances.map { instance in
                let exit = instance.signal.map { "signal \($0)" } ?? instance.exitCode.map(String.init) ?? "-"
                return [instance.key.taskId, instance.state.rawValue, "\(instance.tryNumber)/\(instance.maxTries)",
                        Output.time(instance.startedAt), Output.seconds(instance.duration), exit, instance.note ?? ""]
            }))
        }
    }

    struct Clear: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Clear task instances of a run so that they run again (with their retries).",
            discussion: "Without --task every task of the run is cleared. Instances queued or running are left alone.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "DAG id.") var dagId: String
        @Option(help: "Logical date of the run.") var date: String
        @Option(name: .customLong("task"), help: "Task to clear (repeatable).") var tasks: [String] = []
        @Flag(help: "Also clear everything downstream of the given tasks.") var downstream = false

        func run() throws {
            let dag = try global.loadDag(dagId)
            for task in tasks where dag.task(task) == nil {
                throw CLIError("DAG '\(dag.dagId)' has no task '\(task)' (tasks: \(dag.tasks.map(\.id).joined(separator: ", ")))")
            }
            let store = try global.openStore()
            let run = try RunLookup.findRun(store: store, dag: dag, date: date)
            let cleared = try RunActions.clear(dag: dag, store: store, run: run, taskIds: tasks, downstream: downstream)
            print("cleared \(cleared) task instance\(cleared == 1 ? "" : "s") of \(run.runId)")
            if RunLookup.wakeDaemon(global.layout, leases: store) == nil, cleared > 0 {
                FileHandle.standardError.write(Data(
                    "note: no daemon is running on \(global.homePath); the tasks run when `orchestrator daemon` does\n".utf8))
            }
        }
    }
}
