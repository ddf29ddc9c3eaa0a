import ArgumentParser
import Foundation
import Transforms

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
            do {
                let operation = try TransformRegistry.operation(named: name)
                let context = try TransformContext.fromEnvironment()
                try operation.run(try TransformOptions(operation: name, json: options), context)
            } catch {
                throw CLIError(error.description)
            }
        }
    }
}
