import ArgumentParser
import Executor
import Foundation
import Transforms
import WorkerCore

extension OrchestratorCommand {
    /// Runs one operation of the transform library; the worker starts this for `transform:` tasks, with the
    /// task's environment (ORCHESTRATOR_DS, ORCHESTRATOR_HOME, …) and the DAG's folder as working directory.
    struct Transform: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run an operation of the transform library (started by transform tasks).",
            discussion: "Operations: \(TransformRegistry.operations.map { $0.name }.joined(separator: ", ")). See docs/transforms.md.")
        @Argument(help: "Operation name, e.g. silver.clean.") var name: String
        @Option(name: .customLong("with"), help: "The task's rendered `with:` map as JSON.") var options: String = "{}"

        func run() throws {
            // It holds its granted connections and the lake's S3 keys: other tasks of the same user must not read
            // them from /proc/<pid>/environ or its memory.
            guard ProcessSecrets.makeNonDumpable() else { throw CLIError("transform \(name): cannot make this process non-dumpable") }
            do throws(TransformError) {
                let operation = try TransformRegistry.operation(named: name)
                let context = try TransformContext.fromEnvironment()
                do {
                    try operation.run(try TransformOptions(operation: name, json: options), context)
                } catch {
                    writeResults(context.results, succeeded: false)
                    throw error
                }
                writeResults(context.results, succeeded: true)
            } catch {
                throw CLIError(error.description)
            }
        }

        /// Beside the attempt's log, when run as a task attempt (the worker sets the ids and the try number).
        func writeResults(_ results: TransformResults, succeeded: Bool) {
            let environment = ProcessInfo.processInfo.environment
            guard !results.isEmpty, let home = environment["ORCHESTRATOR_HOME"], let dagId = environment["ORCHESTRATOR_DAG_ID"],
                  let runId = environment["ORCHESTRATOR_RUN_ID"], let taskId = environment["ORCHESTRATOR_TASK_ID"],
                  let tryNumber = environment["ORCHESTRATOR_TRY_NUMBER"].flatMap({ Int($0) }) else { return }
            let path = HomeLayout(home: home).resultPath(dagId: dagId, runId: runId, taskId: taskId, tryNumber: tryNumber)
            guard FileManager.default.fileExists(atPath: (path as NSString).deletingLastPathComponent) else { return }
            do { try results.write(operation: name, succeeded: succeeded, to: path) } catch {
                FileHandle.standardError.write(Data("warning: cannot write \(path): \(error)\n".utf8))
            }
        }
    }
}
