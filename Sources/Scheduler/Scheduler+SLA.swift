import Foundation
import MetadataStore
import Workflow

extension Scheduler {
    /// Records and notifies (once) the scheduled runs and tasks that had not succeeded by their SLA deadline,
    /// the end of the data interval plus `sla`; returns the next deadline still ahead, to wake for it.
    /// Only runs created before their deadline count, so a catch-up of old intervals does not raise a flood.
    func checkSlas(instances: [TaskInstance], now: Date) throws -> Date? {
        let withSla = folder.dags.values.filter { $0.sla != nil || $0.tasks.contains { $0.sla != nil } }
        guard !withSla.isEmpty else { return nil }
        let dagIds = Set(withSla.map(\.dagId))
        let states = Dictionary(instances.map { ($0.key, $0.state) }, uniquingKeysWith: { a, _ in a })
        var nextDeadline: Date?
        for run in try store.runs(RunFilter(states: [.queued, .running])) where dagIds.contains(run.dagId) && run.runType == .scheduled {
            guard let dag = folder.dags[run.dagId] else { continue }
            var checks: [(taskId: String?, sla: Double)] = dag.sla.map { [(nil, $0)] } ?? []
            for task in dag.tasks {
                guard let sla = task.sla else { continue }
                let state = states[TaskKey(dagId: run.dagId, runId: run.runId, taskId: task.id)] ?? TaskState.none
                if state != .success && state != .skipped { checks.append((task.id, sla)) }
            }
            for (taskId, sla) in checks {
                let deadline = run.dataIntervalEnd.addingTimeInterval(sla)
                guard run.createdAt < deadline else { continue }
                guard now >= deadline else {
                    nextDeadline = min(nextDeadline ?? deadline, deadline)
                    continue
                }
                guard try store.recordSlaMiss(dagId: run.dagId, runId: run.runId, taskId: taskId, deadline: deadline, at: now) else { continue }
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
        return nextDeadline
    }
}
