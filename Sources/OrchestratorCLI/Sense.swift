import ArgumentParser
import Executor
import Foundation
import MetadataStore
import StoreAddress
import Transforms
import WorkerCore
import Workflow

extension OrchestratorCommand {
    /// One poke of a sensor task, started by the worker: exits 0 when the condition holds and 75 when it does not
    /// yet, so that the worker gives the slot back until the next poke.
    struct Sense: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Poke a sensor once (started by sensor tasks): exit 0 when met, 75 when not yet.")
        @Argument(help: "file, sql or external_task.") var kind: String
        @Option(name: .customLong("with"), help: "The sensor's rendered options as JSON.") var options: String = "{}"

        func run() throws {
            // It may hold the store's password (external_task) or a connection's (sql): tasks of other DAGs, same
            // user, must not read them from /proc/<pid>/environ or its memory.
            guard ProcessSecrets.makeNonDumpable() else { throw CLIError("sense \(kind): cannot make this process non-dumpable") }
            guard let object = ConfigValue.parseJSON(options), case .object(let values) = object else {
                throw CLIError("sense: --with must be a JSON object")
            }
            func text(_ name: String) throws -> String {
                guard case .string(let value)? = values[name] else { throw CLIError("sense \(kind): option '\(name)' is required") }
                return value
            }
            let met: Bool
            switch kind {
            case "file":
                let path = try text("path")
                let absolute = GlobalOptions.absolute(path)
                var result = glob_t()
                defer { globfree(&result) }
                met = glob(absolute, 0, nil, &result) == 0 && result.gl_pathc > 0
                print(met ? "sensor file: \(path) exists" : "sensor file: \(path) does not exist yet")
            case "sql":
                let connection = try text("connection")
                let environment = ProcessInfo.processInfo.environment
                guard let url = environment["ORCHESTRATOR_CONN_\(connection.uppercased())"], !url.isEmpty else {
                    throw CLIError("sense sql: no connection named '\(connection)' (set ORCHESTRATOR_CONN_\(connection.uppercased()))")
                }
                // libpq falls back to PGPASSWORD for a server the connection's URL gives no password for: never
                // the store's password to the connection's server.
                Self.scrubStorePassword()
                do { met = try Sensors.queryReturnsRow(connectionURL: url, query: try text("query")) } catch let error as TransformError {
                    throw CLIError(error.description)
                }
                print(met ? "sensor sql: the query returned a row" : "sensor sql: the query returned no row yet")
            case "external_task":
                let dagId = try text("dag"), taskId = try text("task")
                let environment = ProcessInfo.processInfo.environment
                guard let home = environment["ORCHESTRATOR_HOME"], let dateText = environment["ORCHESTRATOR_LOGICAL_DATE"],
                      let logicalDate = DateParsing.parse(dateText, in: TimeZone(secondsFromGMT: 0) ?? .current) else {
                    throw CLIError("sense external_task: ORCHESTRATOR_HOME and ORCHESTRATOR_LOGICAL_DATE are required (run it as a task)")
                }
                let url = try StoreFactory.url(flag: nil, configured: environment["ORCHESTRATOR_STORE"], defaultPath: HomeLayout(home: home).storePath)
                let store = try StoreFactory.open(url, options: StoreFactory.Options(readOnly: true))
                // Connected: libpq keeps what it needs, the environment need not.
                Self.scrubStorePassword()
                var state = "no run"
                if let run = try store.run(dagId: dagId, logicalDate: logicalDate) {
                    state = try store.taskInstance(TaskKey(dagId: dagId, runId: run.runId, taskId: taskId))?.state.rawValue ?? "no such task"
                }
                met = state == TaskState.success.rawValue
                print("sensor external_task: \(dagId).\(taskId) at \(dateText) is \(state)")
            default:
                throw CLIError("sense: unknown sensor kind '\(kind)' (file, sql, external_task)")
            }
            if !met { throw ExitCode(AttemptSpec.notYetExitCode) }
        }
    }
}

extension OrchestratorCommand.Sense {
    /// Removes the store's password from the environment and from the block /proc/<pid>/environ shows.
    static func scrubStorePassword() {
        ProcessSecrets.scrubEnvironment { name, _ in name == "PGPASSWORD" || name == StoreURL.sslPasswordVariable }
    }
}
