import Foundation
import MetadataStore
import Scheduler
import Workflow

/// What `trigger` and `tasks clear` do, shared by the command line and the daemon's web actions.
enum RunActions {
    /// A DAG already has a run at that logical date (the web answers 409).
    struct RunExists: Error, CustomStringConvertible {
        let description: String
    }

    /// Creates a manual run at `date` (now, in whole seconds, without one) with the given param overrides.
    static func trigger(dag: DAG, store: any MetadataStore, date: String?, params: [String]) throws -> DagRun {
        // Whole seconds: run ids and every listing show seconds, so that is what users can type back.
        let logicalDate = try date.map { try RunLookup.parseDate($0, dag: dag) } ?? Date(timeIntervalSince1970: Date().timeIntervalSince1970.rounded(.down))
        let overrides = try RunLookup.parseParams(params, dag: dag)
        try store.registerDag(dagId: dag.dagId, fileLocation: dag.filePath, at: Date())
        if let existing = try store.run(dagId: dag.dagId, logicalDate: logicalDate) {
            throw RunExists(description: "DAG '\(dag.dagId)' already has a run at that logical date: \(existing.runId) (\(existing.state.rawValue)); "
                            + "re-run it with: orchestrator tasks clear \(dag.dagId) --date \(DateParsing.isoUTC(logicalDate))")
        }
        let (run, instances) = RunCreation.makeRun(
            dag: dag, logicalDate: logicalDate, interval: dag.timetable.dataInterval(forManual: logicalDate),
            type: .manual, params: overrides, now: Date())
        guard try store.createRun(run, taskInstances: instances) else {
            throw RunExists(description: "DAG '\(dag.dagId)' already has a run at \(DateParsing.isoUTC(logicalDate))")
        }
        return run
    }

    /// Clears `taskIds` of `run` (every task when empty), and their downstream when asked; returns how many.
    static func clear(dag: DAG, store: any MetadataStore, run: DagRun, taskIds: [String], downstream: Bool) throws -> Int {
        for task in taskIds where dag.task(task) == nil {
            throw CLIError("DAG '\(dag.dagId)' has no task '\(task)' (tasks: \(dag.tasks.map(\.id).joined(separator: ", ")))")
        }
        var selected = taskIds.isEmpty ? Set(dag.tasks.map(\.id)) : Set(taskIds)
        if downstream { selected = dag.withDownstream(selected) }
        let extraTries = Dictionary(uniqueKeysWithValues: dag.tasks.map { ($0.id, $0.retry.maxTries) })
        return try store.clearTaskInstances(dagId: dag.dagId, runId: run.runId, taskIds: selected, extraTries: extraTries, at: Date())
    }
}
