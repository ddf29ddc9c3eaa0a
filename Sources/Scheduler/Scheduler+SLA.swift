import Foundation
import MetadataStore
import Workflow

extension Scheduler {
    /// Records and notifies (once) the scheduled runs and tasks that had not succeeded by their SLA deadline,
    /// the end of the data interval plus `sla`; returns the next deadline still ahead, to wake for it.
    /// Only runs created before their deadline count, so a catch-up of old intervals does not raise a flood; a
    /// failed run's deadline counts when it passes while this scheduler runs.
    func checkSlas(instances: [TaskInstance], now: Date) throws -> Date? {
        let withSla = folder.dags.values.filter { $0.sla != nil || $0.tasks.contains { $0.sla != nil } }
        guard !withSla.isEmpty else { return nil }
        let dagIds = Set(withSla.map(\.dagId))
        let states = Dictionary(instances.map { ($0.key, $0.state) }, uniquingKeysWith: { a, _ in a })
        var nextDeadline: Date?
        for run in try store.runs(RunFilter(states: [.queued, .running])) where dagIds.contains(run.dagId) && run.runType == .scheduled {
            guard let dag = folder.dags[run.dagId] else { continue }
            let checks = Self.slaChecks(dag) { states[TaskKey(dagId: run.dagId, runId: run.runId, taskId: $0)] ?? TaskState.none }
            for (taskId, sla) in checks {
                let deadline = run.dataIntervalEnd.addingTimeInterval(sla)
                guard run.createdAt < deadline else { continue }
                guard now >= deadline else {
                    nextDeadline = min(nextDeadline ?? deadline, deadline)
                    continue
                }
                try recordSlaMiss(dag: dag, run: run, taskId: taskId, sla: sla, deadline: deadline, now: now)
            }
        }
        // A run that failed before its deadline did not succeed by it either: its miss is recorded when the
        // deadline passes. Only each DAG's latest failed runs can still have a deadline ahead.
        let since = lastSlaCheck
        for dag in withSla {
            guard let latest = ((dag.sla.map { [$0] } ?? []) + dag.tasks.compactMap(\.sla)).max() else { continue }
            for run in try store.runs(RunFilter(dagId: dag.dagId, states: [.failed], newestFirst: true, limit: 50)) where run.runType == .scheduled {
                guard run.dataIntervalEnd.addingTimeInterval(latest) > since else { continue }
                let taskStates = Dictionary(try store.taskInstances(dagId: dag.dagId, runId: run.runId).map { ($0.key.taskId, $0.state) },
                                            uniquingKeysWith: { a, _ in a })
                for (taskId, sla) in Self.slaChecks(dag, state: { taskStates[$0] ?? TaskState.none }) {
                    let deadline = run.dataIntervalEnd.addingTimeInterval(sla)
                    guard run.createdAt < deadline, deadline > since else { continue }
                    if deadline > now {
                        nextDeadline = min(nextDeadline ?? deadline, deadline)
                    } else {
                        try recordSlaMiss(dag: dag, run: run, taskId: taskId, sla: sla, deadline: deadline, now: now)
                    }
                }
            }
        }
        lastSlaCheck = now
        return nextDeadline
    }

    /// The run's own SLA (task nil) and those of its tasks that have not succeeded (or been skipped).
    static func slaChecks(_ dag: DAG, state: (String) -> TaskState) -> [(taskId: String?, sla: Double)] {
        var checks: [(taskId: String?, sla: Double)] = dag.sla.map { [(nil, $0)] } ?? []
        for task in dag.tasks {
            guard let sla = task.sla else { continue }
            let current = state(task.id)
            if current != .success && current != .skipped { checks.append((task.id, sla)) }
        }
        return checks
    }

    /// Records the miss and notifies the DAG's failure targets, once.
    func recordSlaMiss(dag: DAG, run: DagRun, taskId: String?, sla: Double, deadline: Date, now: Date) throws {
        let known = "\(run.dagId)/\(run.runId)/\(taskId ?? "")"
        guard !knownSlaMisses.contains(known) else { return }
        let recorded = try store.recordSlaMiss(dagId: run.dagId, runId: run.runId, taskId: taskId, deadline: deadline, at: now)
        knownSlaMisses.insert(known)
        guard recorded else { return }
        let subject = taskId.map { "\(run.dagId).\($0)" } ?? run.dagId
        log(.warning, "SLA missed", [("dag", run.dagId), ("run", run.runId), ("task", taskId ?? "-"),
                                     ("deadline", DateParsing.isoUTC(deadline))])
        var event = baseEvent("sla_missed", dagId: run.dagId, runId: run.runId, now: now)
        event["task_id"] = taskId
        event["deadline"] = DateParsing.isoUTC(deadline)
        event["note"] = "\(subject) had not succeeded \(DurationParser.format(sla)) after its data interval ended"
        queue(event, key: "sla_missed/\(run.dagId)/\(run.runId)/\(taskId ?? "")", targets: dag.onFailure, now: now)
    }
}
