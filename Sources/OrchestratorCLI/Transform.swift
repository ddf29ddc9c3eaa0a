import ArgumentParser
import Foundation

extension OrchestratorCommand {
    /// Runs one operation of the transform library; the worker starts this for `transform:` tasks.
    struct Transform: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Run an operation of the transform library (used by transform tasks).")
        @Argument(help: "Operation name, e.g. silver.clean.") var name: String
        @Option(name: .customLong("with"), help: "The task's rendered `with:` map as JSON.") var options: String = "{}"

        func run() throws {
            throw CLIError("unknown transform operation '\(name)': this build has no transform library yet")
        }
    }
}
