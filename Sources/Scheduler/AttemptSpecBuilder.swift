import Foundation
import MetadataStore
import WorkerCore
import Workflow

/// Renders a task's templates for one attempt and packs what the worker needs.
public struct AttemptSpecBuilder: Sendable {
    public let home: HomeLayout
    /// The orchestrator executable, which runs transform tasks (`orchestrator transform NAME --with JSON`).
    public let orchestratorPath: String
    public let tee: Bool
    /// The store the worker writes its attempt to (`SchedulerSettings.storeURL`).
    public let storeURL: String

    public init(home: HomeLayout, orchestratorPath: String, tee: Bool = false, storeURL: String? = nil) {
        self.home = home
        self.storeURL = storeURL ?? "sqlite://" + home.storePath
        self.orchestratorPath = orchestratorPath
        self.tee = tee
    }

    public func build(dag: DAG, task: TaskDefinition, run: DagRun, tryNumber: Int, maxTries: Int) throws(Template.Failure) -> AttemptSpec {
        try render(dag: dag, task: task, run: run, tryNumber: tryNumber, maxTries: maxTries).spec
    }

    /// The spec, and the rendered `with:` options of a transform or sensor (where its connection is named).
    public func render(dag: DAG, task: TaskDefinition, run: DagRun, tryNumber: Int,
                       maxTries: Int) throws(Template.Failure) -> (spec: AttemptSpec, options: ConfigValue?) {
        let runParams: [String: ConfigValue]
        if case .object(let object)? = ConfigValue.parseJSON(run.paramsJSON) { runParams = object } else { runParams = [:] }
        let context = TemplateContext(
            dag: dag, taskId: task.id, runId: run.runId, logicalDate: run.logicalDate,
            interval: DateInterval(start: run.dataIntervalStart, end: run.dataIntervalEnd), params: runParams, tryNumber: tryNumber)
        let argv: [String]
        var sensor: AttemptSpec.SensorTiming?
        var options: ConfigValue?
        switch task.action {
        case .command(let command):
            argv = ["/bin/sh", "-c", try Template.render(command, values: context.values)]
        case .transform(let name, let with):
            let rendered = try with.mapStrings { (text: String) throws(Template.Failure) -> String in
                try Template.render(text, values: context.values)
            }
            argv = [orchestratorPath, "transform", name, "--with", rendered.jsonText]
            options = rendered
        case .sensor(let definition):
            let rendered = try definition.options.mapStrings { (text: String) throws(Template.Failure) -> String in
                try Template.render(text, values: context.values)
            }
            argv = [orchestratorPath, "sense", definition.kind, "--with", rendered.jsonText]
            options = rendered
            sensor = AttemptSpec.SensorTiming(pokeInterval: definition.pokeInterval, timeout: definition.timeout)
        }
        var environment = context.environment
        environment["ORCHESTRATOR_HOME"] = home.home
        // The external_task sensor reads the store; other tasks are not told where it is.
        if case .sensor(let definition) = task.action, definition.kind == "external_task" { environment["ORCHESTRATOR_STORE"] = storeURL }
        for (name, value) in task.env { environment[name] = try Template.render(value, values: context.values) }
        let folder = dag.folder
        let workingDirectory: String
        if let cwd = task.cwd {
            workingDirectory = cwd.hasPrefix("/") ? cwd : (folder as NSString).appendingPathComponent(cwd)
        } else {
            workingDirectory = folder
        }
        let spec = AttemptSpec(
            dagId: dag.dagId, runId: run.runId, taskId: task.id, tryNumber: tryNumber, maxTries: maxTries, argv: argv,
            environment: environment, workingDirectory: workingDirectory,
            logPath: home.logPath(dagId: dag.dagId, runId: run.runId, taskId: task.id, tryNumber: tryNumber),
            storeURL: storeURL, schedulerPidPath: home.schedulerPidPath, executionTimeout: task.executionTimeout,
            retryDelay: task.retry.delay(afterTry: tryNumber), tee: tee, sensor: sensor)
        return (spec, options)
    }
}
