import ArgumentParser
import Foundation
import MetadataStore
import Scheduler
import Workflow

extension OrchestratorCommand {
    struct Trigger: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a manual run of a DAG; the daemon starts it.",
            discussion: "Without --date the logical date is now. The data interval is the schedule's interval containing it.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "DAG id.") var dagId: String
        @Option(help: "Logical date, in the DAG's time zone unless it carries an offset.") var date: String?
        @Option(name: .customLong("param"), help: "Override a declared param: NAME=VALUE (repeatable).") var params: [String] = []

        func run() throws {
            let dag = try global.loadDag(dagId)
            let store = try global.openStore()
            let run: DagRun
            do { run = try RunActions.trigger(dag: dag, store: store, date: date, params: params) } catch let error as RunActions.RunExists {
                throw CLIError(error.description)
            }
            print(run.runId)
            if RunLookup.wakeDaemon(global.layout, leases: store) == nil {
                FileHandle.standardError.write(Data(
                    "note: no daemon is running on \(global.homePath); the run starts when `orchestrator daemon` does\n".utf8))
            }
        }
    }

    struct Runs: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List DAG runs.", subcommands: [List.self])
    }
}

extension OrchestratorCommand.Runs {
    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List DAG runs, newest logical date first.")
        @OptionGroup var global: GlobalOptions
        @Option(help: "Only this DAG.") var dag: String?
        @Option(help: "Only runs in this state (queued, running, success, failed).") var state: String?
        @Option(help: "At most this many runs.") var limit: Int = 100
        @Flag(help: "Print JSON.") var json = false

        func validate() throws {
            if let state, RunState(rawValue: state) == nil {
                throw ValidationError("--state '\(state)' is not a run state (\(RunState.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            if limit < 1 { throw ValidationError("--limit must be at least 1") }
        }

        func run() throws {
            let store = try global.openStore()
            let states = state.flatMap(RunState.init(rawValue:)).map { Set([$0]) }
            let runs = try store.runs(RunFilter(dagId: dag, states: states, newestFirst: true, limit: limit))
            if json {
                try Output.printJSON(runs.map(RunJSON.init))
                return
            }
            print(Output.table(["DAG", "RUN ID", "TYPE", "STATE", "LOGICAL DATE", "STARTED", "ENDED"], runs.map {
                [$0.dagId, $0.runId, $0.runType.rawValue, $0.state.rawValue, Output.time($0.logicalDate),
                 Output.time($0.startedAt), Output.time($0.endedAt)]
            }))
        }
    }
}
