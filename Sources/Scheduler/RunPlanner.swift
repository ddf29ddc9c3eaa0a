import Foundation
import MetadataStore
import Workflow

/// A decision of the scheduler, applied to the store as a compare-and-set.
public enum SchedulerAction: Sendable, Equatable {
    case setTaskState(TaskKey, from: TaskState, to: TaskState, note: String?)
    case finishRun(dagId: String, runId: String, state: RunState)
}

/// Decides, for one running DAG run, which task instances move on: pure, no I/O, the clock passed in.
public enum RunPlanner {
    /// - Parameter previousRunStates: task states of the DAG's previous run (by logical date), for depends_on_past;
    ///   nil when there is no previous run.
    public static func plan(dag: DAG, run: DagRun, instances: [TaskInstance],
                            previousRunStates: [String: TaskState]?, now: Date) -> [SchedulerAction] {
        var actions: [SchedulerAction] = []
        var states = Dictionary(instances.map { ($0.key.taskId, $0.state) }, uniquingKeysWith: { a, _ in a })
        let byTask = Dictionary(instances.map { ($0.key.taskId, $0) }, uniquingKeysWith: { a, _ in a })

        // Topological order lets a decision cascade down the graph within one pass.
        for task in dag.tasks {
            guard let instance = byTask[task.id] else { continue }
            let state = states[task.id] ?? .none
            switch state {
            case .none:
                let upstream = task.dependsOn.map { states[$0] ?? .none }
                var next: TaskState?
                var note: String?
                switch TriggerRuleEvaluator.evaluate(task.triggerRule, upstream: upstream) {
                case .waiting: break
                case .skip: next = .skipped; note = "skipped by trigger rule \(task.triggerRule.rawValue)"
                case .upstreamFailed: next = .upstreamFailed; note = "an upstream task failed (trigger rule \(task.triggerRule.rawValue))"
                case .ready:
                    if task.dependsOnPast, let previous = previousRunStates {
                        let past = previous[task.id]
                        if past != nil && past != .success && past != .skipped { break }  // wait for the past run
                    }
                    next = .scheduled
                }
                if let next {
                    states[task.id] = next
                    actions.append(.setTaskState(instance.key, from: .none, to: next, note: note))
                }
            case .upForRetry:
                if let retryAt = instance.nextRetryAt, retryAt > now { break }
                states[task.id] = .scheduled
                actions.append(.setTaskState(instance.key, from: .upForRetry, to: .scheduled, note: nil))
            default:
                break
            }
        }
        // Tasks no longer in the DAG file cannot run: skip them so the run can finish.
        for instance in instances where dag.task(instance.key.taskId) == nil && !instance.state.isFinished && !instance.state.isActive {
            states[instance.key.taskId] = .skipped
            actions.append(.setTaskState(instance.key, from: instance.state, to: .skipped, note: "task no longer in the DAG file"))
        }

        // As in Airflow, the leaves decide: a run fails when a leaf task failed or could not run because an
        // upstream failed, and succeeds otherwise, so a final all_done clean-up task does not hide a failure
        // only if it is not the sole leaf. (A failure upstream of a successful all_done leaf counts as success.)
        if !states.isEmpty, states.values.allSatisfy(\.isFinished) {
            let leaves = dag.tasks.filter { dag.directDownstream(of: $0.id).isEmpty }.map(\.id)
            let failed = leaves.contains { states[$0] == .failed || states[$0] == .upstreamFailed }
            actions.append(.finishRun(dagId: run.dagId, runId: run.runId, state: failed ? .failed : .success))
        }
        return actions
    }

    /// The earliest moment a waiting retry becomes due, so the scheduler can sleep until then.
    public static func nextRetryTime(_ instances: [TaskInstance]) -> Date? {
        instances.filter { $0.state == .upForRetry }.compactMap(\.nextRetryAt).min()
    }
}
