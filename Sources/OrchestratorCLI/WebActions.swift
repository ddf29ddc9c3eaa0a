import Foundation
import MetadataStore
import WebStatus
import Workflow

/// The daemon's side of the web actions: the same code as `trigger`, `tasks clear` and `dags pause`, on the
/// daemon's writable store, then a wake-up for its scheduler (SIGUSR1, as the command line sends).
struct WebActions: StatusActions {
    let store: any MetadataStore
    let dags: @Sendable () -> [DAG]

    func dag(_ dagId: String) throws(ActionError) -> DAG {
        guard let dag = dags().first(where: { $0.dagId == dagId }) else { throw ActionError(.notFound, "unknown DAG '\(dagId)'") }
        return dag
    }

    /// Runs `body`, mapping the command-line errors to HTTP answers, and wakes the scheduler after a change.
    func acting<T>(_ body: () throws -> T) throws(ActionError) -> T {
        do {
            let result = try body()
            kill(getpid(), SIGUSR1)
            return result
        } catch let error as ActionError {
            throw error
        } catch let error as RunActions.RunExists {
            throw ActionError(.conflict, error.description)
        } catch let error as CLIError {
            throw ActionError(.badRequest, error.description)
        } catch {
            throw ActionError(.failed, "\(error)")
        }
    }

    func trigger(dagId: String, logicalDate: String?, params: [String: String]) throws(ActionError) -> DagRun {
        let dag = try dag(dagId)
        return try acting {
            try RunActions.trigger(dag: dag, store: store, date: logicalDate, params: params.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" })
        }
    }

    func clear(dagId: String, runId: String, taskIds: [String], downstream: Bool) throws(ActionError) -> Int {
        let dag = try dag(dagId)
        return try acting {
            guard let run = try store.run(dagId: dag.dagId, runId: runId) else { throw ActionError(.notFound, "DAG '\(dagId)' has no run '\(runId)'") }
            return try RunActions.clear(dag: dag, store: store, run: run, taskIds: taskIds, downstream: downstream)
        }
    }

    func setPaused(dagId: String, paused: Bool) throws(ActionError) {
        let dag = try dag(dagId)
        try acting {
            try store.registerDag(dagId: dag.dagId, fileLocation: dag.filePath, at: Date())
            _ = try store.setPaused(dagId: dag.dagId, paused: paused)
        }
    }
}
