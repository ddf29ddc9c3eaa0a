import Executor
import Foundation
import MetadataStore
import SecretMasking
import WorkerCore
import Workflow

/// Dispatch: claiming scheduled instances within the limits, then starting their workers.
extension Scheduler {
    /// Starts workers for scheduled task instances within the limits.
    func dispatchReady(now: Date, instances: [TaskInstance]) throws {
        let scheduled = instances.filter { $0.state == .scheduled && inScope(dagId: $0.key.dagId, runId: $0.key.runId) }
        guard !scheduled.isEmpty else { return }
        // Only running runs have queued or running instances (a run finishes after all of them).
        let active = instances.filter(\.state.isActive)
        var runs: [RunRef: DagRun] = [:]
        var candidates: [DispatchCandidate] = []
        for instance in scheduled {
            guard let dag = folder.dags[instance.key.dagId] else { continue }
            let ref = RunRef(dagId: instance.key.dagId, runId: instance.key.runId)
            if runs[ref] == nil { runs[ref] = try store.run(dagId: ref.dagId, runId: ref.runId) }
            guard let run = runs[ref] else { continue }
            let order = dag.tasks.firstIndex { $0.id == instance.key.taskId } ?? 0
            candidates.append(DispatchCandidate(instance: instance, logicalDate: run.logicalDate, taskOrder: order,
                                                maxActiveTasks: dag.maxActiveTasks))
        }
        let plan = DispatchPlanner.plan(candidates: candidates, active: active,
                                        limits: .init(parallelism: parallelism, poolSlots: try store.pools(), node: hostname))
        for instance in plan.unknownPool {
            let note = "pool '\(instance.pool)' is not defined (create it with: orchestrator pools set \(instance.pool) SLOTS)"
            _ = try store.update(instance.key, .cannotRun(note: note, tryNumber: instance.tryNumber, at: now))
            log(.error, "task cannot run", [("task", instance.key.description), ("reason", note)])
            pendingWake = true
        }
        for instance in plan.start {
            guard let dag = folder.dags[instance.key.dagId], let task = dag.task(instance.key.taskId),
                  let run = runs[RunRef(dagId: instance.key.dagId, runId: instance.key.runId)] else { continue }
            try start(instance, dag: dag, task: task, run: run, now: now)
        }
    }

    /// Claims the instance (scheduled → queued at the next attempt), then starts its worker.
    func start(_ instance: TaskInstance, dag: DAG, task: TaskDefinition, run: DagRun, now: Date) throws {
        let tryNumber = instance.tryNumber + 1
        var spec: AttemptSpec
        do {
            (spec, _) = try specBuilder.render(dag: dag, task: task, run: run, tryNumber: tryNumber, maxTries: instance.maxTries)
        } catch {
            _ = try store.update(instance.key, .cannotRun(note: "cannot render the task: \(SecretMasker.masked(error.message))", tryNumber: instance.tryNumber, at: now))
            pendingWake = true
            return
        }
        let granted: [String: String]
        do {
            granted = try TaskConnections.environment(for: task, connections: connections)
                .merging(TaskConnections.lakeEnvironment(for: task, credentials: settings.lakeEnvironment)) { $1 }
        } catch {
            _ = try store.update(instance.key, .cannotRun(note: error.message, tryNumber: instance.tryNumber, at: now))
            log(.error, "task cannot run", [("task", instance.key.description), ("reason", error.message)])
            pendingWake = true
            return
        }
        // The planner's counts came from one read; the claim counts again in the store, which has the last word.
        let limits = DispatchLimits(node: hostname, parallelism: parallelism, maxActiveTasks: dag.maxActiveTasks)
        switch try store.claimForDispatch(instance, limits: limits, at: now) {
        case .claimed: break
        case .movedOn, .poolFull, .dagFull, .nodeFull: return
        case .unknownPool:
            let note = "pool '\(instance.pool)' is not defined (create it with: orchestrator pools set \(instance.pool) SLOTS)"
            _ = try store.update(instance.key, .cannotRun(note: note, tryNumber: instance.tryNumber, at: now))
            log(.error, "task cannot run", [("task", instance.key.description), ("reason", note)])
            pendingWake = true
            return
        }
        // The worker's end of its attempt channel, when this scheduler answers for the store (closed here once passed).
        var passed: [Int32] = []
        defer { for descriptor in passed { close(descriptor) } }
        if let attemptChannels {
            guard let channel = attemptChannels.openChannel() else {
                let note = "cannot start the worker: no attempt channel (\(String(cString: strerror(errno))))"
                log(.error, "worker did not start", [("task", instance.key.description), ("error", note)])
                _ = try store.update(instance.key, .spawnFailed(tryNumber: tryNumber, note: note, at: now))
                return
            }
            passed = [channel]
            spec.channel = AttemptChannel.childDescriptor
        }
        let pid: pid_t
        do {
            pid = try ProcessLauncher.spawn(ProcessSpec(
                // Connections travel in the worker's environment, never in its argv (the spec), which any user can read.
                executable: settings.workerPath, arguments: spec.arguments, environment: workerEnvironment.merging(settings.storeEnvironment) { $1 }.merging(granted) { $1 }
                    .merging(["ORCHESTRATOR_NODE_NAME": hostname]) { $1 },
                workingDirectory: nil, outputPath: nil, newProcessGroup: true, passedDescriptors: passed))
        } catch {
            let note = "cannot start the worker: \(error)"
            log(.error, "worker did not start", [("task", instance.key.description), ("error", note)])
            _ = try store.update(instance.key, .spawnFailed(tryNumber: tryNumber, note: note, at: now))
            return
        }
        children[pid] = (instance.key, tryNumber)
        onSpawn()
        _ = try store.updateTaskInstance(instance.key, expecting: [.queued], tryNumber: tryNumber, set: [.pid(pid)])
        log(.debug, "worker started", [("task", instance.key.description), ("try", String(tryNumber)), ("pid", String(pid))])
    }
}
