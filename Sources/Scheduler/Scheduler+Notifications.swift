import Foundation
import MetadataStore
import Workflow

extension Scheduler {
    /// Queues notifications for tasks that failed after their last try, in the outbox (the scheduler never sends:
    /// a delivery thread does, so a slow webhook cannot hold up scheduling).
    func queueTaskFailures(_ instances: [TaskInstance], now: Date) {
        for instance in instances where instance.state == .failed {
            guard let dag = folder.dags[instance.key.dagId], !dag.onFailure.isEmpty else { continue }
            let eventKey = "task_failed/\(instance.key.dagId)/\(instance.key.runId)/\(instance.key.taskId)/\(instance.tryNumber)"
            guard !queuedNotifications.contains(eventKey) else { continue }
            queuedNotifications.insert(eventKey)
            var event = baseEvent("task_failed", dagId: instance.key.dagId, runId: instance.key.runId, now: now)
            event["task_id"] = instance.key.taskId
            event["try_number"] = instance.tryNumber
            event["note"] = instance.note
            event["exit_code"] = instance.exitCode.map { Int($0) }
            queue(event, key: eventKey, targets: dag.onFailure, now: now)
        }
    }

    /// Queues the notifications of a finished run: failure, success, and recovery after a failed previous run.
    /// A run that is cleared and finishes again is a new event: the key carries the time the run ended.
    func queueRunFinished(dagId: String, runId: String, state: RunState, now: Date) throws {
        guard let dag = folder.dags[dagId], !(dag.onFailure.isEmpty && dag.onSuccess.isEmpty) else { return }
        let run = try store.run(dagId: dagId, runId: runId)
        let generation = Int(((run?.endedAt ?? now).timeIntervalSince1970 * 1000).rounded())
        if state == .failed {
            queue(baseEvent("run_failed", dagId: dagId, runId: runId, now: now), key: "run_failed/\(dagId)/\(runId)/\(generation)",
                  targets: dag.onFailure, now: now)
            return
        }
        queue(baseEvent("run_succeeded", dagId: dagId, runId: runId, now: now), key: "run_succeeded/\(dagId)/\(runId)/\(generation)",
              targets: dag.onSuccess, now: now)
        if let run, let previous = try store.previousRun(dagId: dagId, before: run.logicalDate), previous.state == .failed {
            var event = baseEvent("run_recovered", dagId: dagId, runId: runId, now: now)
            event["previous_run_id"] = previous.runId
            let targets = dag.onFailure + dag.onSuccess.filter { !dag.onFailure.contains($0) }
            queue(event, key: "run_recovered/\(dagId)/\(runId)/\(generation)", targets: targets, now: now)
        }
    }

    func baseEvent(_ kind: String, dagId: String, runId: String, now: Date) -> [String: Any] {
        var event: [String: Any] = ["event": kind, "dag_id": dagId, "run_id": runId, "time": DateParsing.isoUTC(now)]
        if let run = try? store.run(dagId: dagId, runId: runId) {
            event["logical_date"] = DateParsing.isoUTC(run.logicalDate)
            event["run_state"] = run.state.rawValue
        }
        return event
    }

    func queue(_ event: [String: Any], key: String, targets: [String], now: Date) {
        guard let data = try? JSONSerialization.data(withJSONObject: event.compactMapValues { $0 }, options: [.sortedKeys]) else { return }
        let payload = String(decoding: data, as: UTF8.self)
        var queued = false
        for target in targets {
            do {
                if try store.enqueueNotification(eventKey: key, target: target, payload: payload, at: now) { queued = true }
            } catch {
                log(.error, "cannot queue a notification", [("event", key), ("error", "\(error)")])
            }
        }
        if queued { onNotificationQueued() }
    }
}
