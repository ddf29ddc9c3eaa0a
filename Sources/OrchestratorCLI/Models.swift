import ArgumentParser
import Foundation
import Transforms
import Workflow

extension OrchestratorCommand {
    /// dbt-like development commands for a DAG's `models.run` task: build a subset, print the graph.
    struct Models: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Build or list the models of a DAG's models.run task (see docs/models.md).",
            subcommands: [Run.self, List.self])
    }
}

extension OrchestratorCommand.Models {
    struct Run: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Build a selection of a models.run task's models now, in the foreground, against the real target.",
            discussion: """
                As `dbt run --select`: the models run as the task would for the logical date (default: the latest complete \
                interval), with the DAG's lake, warehouse and connections (ORCHESTRATOR_CONN_<NAME>), and the selected \
                models' tests after them. No run is recorded. Selectors: name, +name, name+, a folder (staging) or \
                path:staging, tag:x; several, space-separated, select their union.
                """)
        @OptionGroup var global: GlobalOptions
        @Argument(help: "DAG id.") var dagId: String
        @Argument(help: "The models.run task's id.") var taskId: String
        @Option(help: "dbt-like selectors (default: the task's select, else every model).") var select: String?
        @Option(help: "Logical date, in the DAG's time zone (default: the latest complete interval).") var date: String?
        @Option(help: "Build in this connection (ORCHESTRATOR_CONN_<NAME>) instead of the task's target.") var target: String?
        @Flag(help: "Rebuild incremental models whole.") var fullRefresh = false

        func run() throws {
            let (dag, task, options) = try ModelsTask.find(global: global, dagId: dagId, taskId: taskId)
            let logicalDate = try date.map { try RunLookup.parseDate($0, dag: dag) }
                ?? dag.timetable.latestCompleteLogicalDate(asOf: Date()) ?? Date()
            let interval = dag.timetable.dataInterval(forScheduled: logicalDate) ?? dag.timetable.dataInterval(forManual: logicalDate)
            let values = TemplateContext(dag: dag, taskId: task.id, runId: "models_run_cli", logicalDate: logicalDate, interval: interval,
                                         params: [:], tryNumber: 1)
            var environment = ProcessInfo.processInfo.environment.merging(values.environment) { $1 }
            // The configuration's connections too, as the daemon hands them to tasks (the environment's win).
            for (name, url) in (try? global.configuration())?.connections ?? [:] where environment["ORCHESTRATOR_CONN_\(name.uppercased())"] == nil {
                environment["ORCHESTRATOR_CONN_\(name.uppercased())"] = url
            }
            environment["ORCHESTRATOR_HOME"] = global.layout.home
            environment["ORCHESTRATOR_LAKE"] = LakeSetting.resolve(flag: nil, try? global.configuration(), home: global.layout)
            if let warehouse = WarehouseSetting.resolve(try? global.configuration()) { environment["ORCHESTRATOR_WAREHOUSE"] = warehouse }
            var json = try ModelsTask.render(options, values: values)
            if let select { json["select"] = select }
            if fullRefresh { json["full_refresh"] = true }
            if let target { json["target"] = target }
            do throws(TransformError) {
                let context = try TransformContext.fromEnvironment(environment, folder: dag.folder)
                let data = (try? JSONSerialization.data(withJSONObject: json)) ?? Data("{}".utf8)
                try ModelsRun.run(try TransformOptions(operation: ModelsRun.name, json: String(decoding: data, as: UTF8.self)), context)
            } catch {
                throw CLIError(error.description)
            }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the models of a DAG's models.run tasks in build order, with their materialization and parents.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "DAG id.") var dagId: String
        @Argument(help: "A models.run task's id (default: every one of the DAG).") var taskId: String?
        @Option(help: "dbt-like selectors.") var select: String?
        @Option(help: "The engine whose model variants to show: sqlite or postgres.") var engine = "sqlite"

        func run() throws {
            let dag = try global.loadDag(dagId)
            let tasks = try taskId.map { [try ModelsTask.find(global: global, dagId: dagId, taskId: $0)] }
                ?? dag.tasks.compactMap { task in
                    guard case .transform(let name, let options) = task.action, name == ModelsRun.name else { return nil }
                    return (dag, task, options)
                }
            guard !tasks.isEmpty else { throw CLIError("DAG \(dagId) has no \(ModelsRun.name) task") }
            for (dag, task, options) in tasks {
                let values = TemplateContext(dag: dag, taskId: task.id, runId: "list", logicalDate: Date(), interval: DateInterval(), params: [:], tryNumber: 1)
                let json = try ModelsTask.render(options, values: values)
                guard let project = json["project"] as? String else { throw CLIError("task \(task.id): with.project is not set") }
                do throws(TransformError) {
                    let loaded = try ModelProject.load(folder: project.hasPrefix("/") ? project : "\(dag.folder)/\(project)", engine: engine)
                    print("\(dag.dagId).\(task.id): \(loaded.models.count) models in \(project)")
                    print(try ModelsRun.describe(project: loaded, selection: select ?? json["select"] as? String))
                } catch {
                    throw CLIError(error.description)
                }
            }
        }
    }
}

/// A DAG's models.run task and its rendered options.
enum ModelsTask {
    static func find(global: GlobalOptions, dagId: String, taskId: String) throws -> (DAG, TaskDefinition, ConfigValue) {
        let dag = try global.loadDag(dagId)
        guard let task = dag.tasks.first(where: { $0.id == taskId }) else {
            throw CLIError("DAG \(dagId) has no task '\(taskId)' (tasks: \(dag.tasks.map(\.id).joined(separator: ", ")))")
        }
        guard case .transform(let name, let options) = task.action, name == ModelsRun.name else {
            throw CLIError("task \(dagId).\(taskId) is not a \(ModelsRun.name) task")
        }
        return (dag, task, options)
    }

    static func render(_ options: ConfigValue, values: TemplateContext) throws -> [String: Any] {
        let rendered = try options.mapStrings { (text: String) throws(Template.Failure) -> String in try Template.render(text, values: values.values) }
        guard let data = rendered.jsonText.data(using: .utf8), let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return [:] }
        return object
    }
}
