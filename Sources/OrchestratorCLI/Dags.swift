import ArgumentParser
import Foundation
import MetadataStore
import Scheduler
import Workflow

extension OrchestratorCommand {
    struct Dags: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List, validate, show, pause and unpause DAGs.",
            subcommands: [List.self, Validate.self, Show.self, Pause.self, Unpause.self])
    }
}

extension OrchestratorCommand.Dags {
    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the DAGs of the DAG folder and the files that fail to load.")
        @OptionGroup var global: GlobalOptions
        @Flag(help: "Print JSON.") var json = false

        struct DagJSON: Encodable {
            let dag_id: String
            let description: String?
            let file: String
            let schedule: String?
            let timezone: String
            let is_paused: Bool
            let next_run_due: String?
            let tasks: Int
        }

        struct ListingJSON: Encodable {
            let dags: [DagJSON]
            let import_errors: [ImportErrorJSON]
        }

        struct ImportErrorJSON: Encodable {
            let file: String
            let error: String
        }

        func run() throws {
            let folder = try global.loadFolder()
            let store = try global.openStore()
            let paused = Set(try store.dags().filter(\.isPaused).map(\.dagId))
            var rows: [DagJSON] = []
            for dag in folder.sortedDags {
                let latest = try store.latestLogicalDate(dagId: dag.dagId, runType: .scheduled)
                let due = RunCreation.nextDueTime(dag: dag, latestExisting: latest)
                rows.append(DagJSON(
                    dag_id: dag.dagId, description: dag.description, file: dag.filePath,
                    schedule: dag.timetable.cron?.description, timezone: Output.zoneName(dag.timetable.timeZone),
                    is_paused: paused.contains(dag.dagId), next_run_due: due.map(DateParsing.isoUTC), tasks: dag.tasks.count))
            }
            let errors = folder.errors.sorted { $0.key < $1.key }.map { ImportErrorJSON(file: $0.key, error: $0.value.description) }
            if json {
                try Output.printJSON(ListingJSON(dags: rows, import_errors: errors))
                return
            }
            print(Output.table(["DAG", "SCHEDULE", "PAUSED", "TASKS", "NEXT RUN DUE"], rows.map {
                [$0.dag_id, $0.schedule ?? "None", $0.is_paused ? "yes" : "no", String($0.tasks), $0.next_run_due ?? "-"]
            }))
            for error in errors {
                FileHandle.standardError.write(Data("\nfailed to load \(error.file):\n\(error.error)\n".utf8))
            }
        }
    }

    struct Validate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check DAG files (default: every file of the DAG folder); exits 1 if any is invalid.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "DAG files to check.") var files: [String] = []

        func run() throws {
            var invalid = 0
            if files.isEmpty {
                let folder = try global.loadFolder()
                for dag in folder.sortedDags { print("ok  \(dag.filePath)  (\(dag.dagId), \(dag.tasks.count) tasks)") }
                for (_, error) in folder.errors.sorted(by: { $0.key < $1.key }) {
                    print(error.description)
                    invalid += 1
                }
                if folder.dags.isEmpty && folder.errors.isEmpty { print("no DAG files in \(folder.path)") }
            } else {
                for file in files {
                    let path = GlobalOptions.absolute(file)
                    do {
                        let dag = try DagParser.parse(file: path)
                        print("ok  \(path)  (\(dag.dagId), \(dag.tasks.count) tasks)")
                    } catch {
                        print(error.description)
                        invalid += 1
                    }
                }
            }
            if invalid > 0 { throw CLIError("\(invalid) DAG file\(invalid == 1 ? " is" : "s are") invalid") }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a DAG: schedule, limits, params and tasks.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "DAG id.") var dagId: String
        @Flag(help: "Print JSON.") var json = false

        struct TaskJSON: Encodable {
            let task_id: String
            let kind: String
            let command: String?
            let transform: String?
            let with: ConfigValue?
            let depends_on: [String]
            let trigger_rule: String
            let retries: Int
            let retry_delay: Double
            let retry_exponential_backoff: Bool
            let max_retry_delay: Double?
            let execution_timeout: Double?
            let depends_on_past: Bool
            let pool: String
            let priority_weight: Int
        }

        struct DagJSON: Encodable {
            let dag_id: String
            let description: String?
            let file: String
            let schedule: String?
            let timezone: String
            let start_date: String
            let end_date: String?
            let catchup: Bool
            let max_active_runs: Int
            let max_active_tasks: Int
            let params: [String: ConfigValue]
            let is_paused: Bool
            let tasks: [TaskJSON]
        }

        func run() throws {
            let dag = try global.loadDag(dagId)
            let store = try global.openStore()
            let isPaused = try store.dags().first { $0.dagId == dagId }?.isPaused ?? false
            let tasks = dag.tasks.map { task -> TaskJSON in
                var command: String?, transform: String?, with: ConfigValue?, kind = "command"
                switch task.action {
                case .command(let text): command = text
                case .transform(let name, let options): transform = name; with = options; kind = "transform"
                case .sensor(let sensor): transform = "sensor.\(sensor.kind)"; with = sensor.options; kind = "sensor"
                }
                return TaskJSON(
                    task_id: task.id, kind: kind, command: command, transform: transform,
                    with: with, depends_on: task.dependsOn, trigger_rule: task.triggerRule.rawValue, retries: task.retry.retries,
                    retry_delay: task.retry.retryDelay, retry_exponential_backoff: task.retry.exponentialBackoff,
                    max_retry_delay: task.retry.maxRetryDelay, execution_timeout: task.executionTimeout,
                    depends_on_past: task.dependsOnPast, pool: task.pool, priority_weight: task.priorityWeight)
            }
            let zone = dag.timetable.timeZone
            let info = DagJSON(
                dag_id: dag.dagId, description: dag.description, file: dag.filePath, schedule: dag.timetable.cron?.description,
                timezone: Output.zoneName(zone), start_date: DateParsing.iso(dag.startDate, in: zone),
                end_date: dag.endDate.map { DateParsing.iso($0, in: zone) }, catchup: dag.catchup,
                max_active_runs: dag.maxActiveRuns, max_active_tasks: dag.maxActiveTasks, params: dag.params,
                is_paused: isPaused, tasks: tasks)
            if json {
                try Output.printJSON(info)
                return
            }
            print("dag_id:           \(info.dag_id)")
            if let description = info.description { print("description:      \(description)") }
            print("file:             \(info.file)")
            print("schedule:         \(info.schedule ?? "None (manual only)")  [\(info.timezone)]")
            print("start_date:       \(info.start_date)")
            if let end = info.end_date { print("end_date:         \(end)") }
            print("catchup:          \(info.catchup)")
            print("max_active_runs:  \(info.max_active_runs)")
            print("max_active_tasks: \(info.max_active_tasks)")
            print("paused:           \(info.is_paused ? "yes" : "no")")
            if !info.params.isEmpty {
                print("params:           \(ConfigValue.object(info.params).jsonText)")
            }
            print("")
            print(Output.table(["TASK", "RUNS", "DEPENDS ON", "TRIGGER RULE", "RETRIES", "POOL"], tasks.map { task in
                [task.task_id, task.command ?? "transform \(task.transform ?? "")", task.depends_on.joined(separator: ","),
                 task.trigger_rule, String(task.retries), task.pool]
            }))
        }
    }

    struct Pause: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Stop creating scheduled runs of a DAG.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "DAG id.") var dagId: String
        func run() throws { try setPaused(global: global, dagId: dagId, paused: true) }
    }

    struct Unpause: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Resume creating scheduled runs of a DAG.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "DAG id.") var dagId: String
        func run() throws { try setPaused(global: global, dagId: dagId, paused: false) }
    }
}

private func setPaused(global: GlobalOptions, dagId: String, paused: Bool) throws {
    let dag = try global.loadDag(dagId)
    let store = try global.openStore()
    try store.registerDag(dagId: dag.dagId, fileLocation: dag.filePath, at: Date())
    _ = try store.setPaused(dagId: dag.dagId, paused: paused)
    RunLookup.wakeDaemon(global.layout, leases: store)
    print("\(dag.dagId) is \(paused ? "paused" : "unpaused")")
}
