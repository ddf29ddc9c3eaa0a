import ArgumentParser
import Foundation
import MetadataStore

extension OrchestratorCommand {
    struct Logs: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the log of a task attempt (the latest by default).")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "DAG id.") var dagId: String
        @Argument(help: "Task id.") var taskId: String
        @Option(help: "Logical date of the run.") var date: String
        @Option(name: .customLong("try"), help: "Attempt number (1 is the first).") var tryNumber: Int?

        func run() throws {
            let dag = try global.loadDag(dagId)
            guard dag.task(taskId) != nil else {
                throw CLIError("DAG '\(dag.dagId)' has no task '\(taskId)' (tasks: \(dag.tasks.map(\.id).joined(separator: ", ")))")
            }
            let store = try global.openStore()
            let run = try RunLookup.findRun(store: store, dag: dag, date: date)
            let key = TaskKey(dagId: dag.dagId, runId: run.runId, taskId: taskId)
            guard let instance = try store.taskInstance(key) else { throw CLIError("no task instance \(key)") }
            let attempt = tryNumber ?? instance.tryNumber
            guard attempt >= 1 else { throw CLIError("\(key) has not run yet (state \(instance.state.rawValue))") }
            guard attempt <= instance.tryNumber else {
                throw CLIError("--try \(attempt): \(key) has made \(instance.tryNumber) attempt\(instance.tryNumber == 1 ? "" : "s")")
            }
            let path = global.layout.logPath(dagId: dag.dagId, runId: run.runId, taskId: taskId, tryNumber: attempt)
            guard let handle = FileHandle(forReadingAtPath: path) else {
                throw CLIError("no log for attempt \(attempt) of \(key) (expected \(path))")
            }
            defer { try? handle.close() }
            while let chunk = try handle.read(upToCount: 65_536), !chunk.isEmpty {
                FileHandle.standardOutput.write(chunk)
            }
        }
    }
}
