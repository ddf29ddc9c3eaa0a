import Executor
import Foundation
import MetadataStore
import Workflow

extension Scheduler {
    /// A worker of ours exited: if it could not record its attempt, record it as failed now.
    func handleChildExit(pid: pid_t, status: ExitStatus, now: Date) throws {
        guard let child = children.removeValue(forKey: pid) else { return }
        guard !status.succeeded else { return }
        try failOrphan(key: child.key, tryNumber: child.tryNumber, now: now,
                       note: "the worker (pid \(pid)) ended with \(status) before recording the attempt", killsTaskGroup: true,
                       worker: pid)
    }

    /// Finds attempts whose worker is gone: a dead pid on this node, or, on another node, a node lost (its heartbeat
    /// and the attempt's both older than `nodeTimeout`; pids are checked only on a node's own attempts). An attempt of
    /// a node the store does not know (a backfill's) is gone once its own heartbeat is older than `heartbeatTimeout`.
    /// Queued attempts whose worker never started go back to scheduled without using up a try.
    /// Heartbeat ages are judged by the store's clock where it has one (PostgreSQL stamps the heartbeats with it), so
    /// that this node's skew neither makes a live node look dead nor a dead one alive.
    func recoverOrphans(now localNow: Date) throws {
        let now = try store.storeTime() ?? localNow
        let known = try store.nodes()
        pruneSilentNodes(known, now: now)
        let nodes = Dictionary(known.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        for instance in try store.taskInstances(states: [.queued, .running]) {
            guard inScope(dagId: instance.key.dagId, runId: instance.key.runId) else { continue }
            if let pid = instance.pid, children[pid] != nil { continue }
            let local = instance.hostname == nil || instance.hostname == hostname
            let workerAlive = local && (instance.pid.map(Self.isWorkerProcess) ?? false)
            if local, workerAlive, let pid = instance.pid {
                if adopted[pid] == nil {
                    adopted[pid] = (instance.key, instance.tryNumber)
                    log(.info, "adopted a running worker", [("task", instance.key.description), ("pid", String(pid))])
                }
                continue
            }
            if let pid = instance.pid { adopted.removeValue(forKey: pid) }
            var lostNode: String?
            if !local {
                let last = instance.heartbeatAt ?? instance.queuedAt ?? .distantPast
                if let owner = instance.hostname, let node = nodes[owner] {
                    // Never while it is alive: the node's daemon and the attempt's worker must both have gone quiet.
                    guard now.timeIntervalSince(node.lastHeartbeat) > settings.nodeTimeout,
                          now.timeIntervalSince(last) > settings.nodeTimeout else { continue }
                    lostNode = owner
                } else {
                    guard now.timeIntervalSince(last) > settings.heartbeatTimeout else { continue }
                }
            }
            if instance.state == .queued {
                // The worker never claimed it, so no attempt was made: hand it back.
                if try store.update(instance.key, .neverStarted(instance)) {
                    log(.warning, "requeued a task whose worker never started", [("task", instance.key.description)])
                }
                continue
            }
            let reason = lostNode.map { "node lost: \($0) sent no heartbeat for more than \(Int(settings.nodeTimeout))s" } ?? (local
                ? "the worker (pid \(instance.pid.map(String.init) ?? "?")) is gone; the attempt was abandoned"
                : "no heartbeat from \(instance.hostname ?? "?") for more than \(Int(settings.heartbeatTimeout))s")
            // The attempt's times (its end, its retry) are this node's, as every other time it writes.
            try failOrphan(key: instance.key, tryNumber: instance.tryNumber, now: localNow, note: reason, killsTaskGroup: local)
        }
    }

    /// Nodes silent this long are forgotten, by whichever node's recovery sees them first, so the nodes table (and
    /// `GET /api/v1/nodes`) stays bounded however many names have come and gone.
    public static let nodeRetention: TimeInterval = 7 * 86_400

    func pruneSilentNodes(_ nodes: [NodeRecord], now: Date) {
        let cutoff = now.addingTimeInterval(-Self.nodeRetention)
        // Usually none is that old: no write then.
        guard nodes.contains(where: { $0.lastHeartbeat < cutoff }) else { return }
        do {
            let pruned = try store.pruneNodes(silentBefore: cutoff)
            if pruned > 0 { log(.info, "forgot nodes silent for more than 7 days", [("nodes", String(pruned))]) }
        } catch {
            // Housekeeping: the next check tries again.
            log(.warning, "cannot prune silent nodes", [("error", "\(error)")])
        }
    }

    /// Records an abandoned attempt as failed and applies the task's retry policy. `killsTaskGroup` only for an
    /// attempt of this node: another node's task pid names a process group on another machine, and signalling that
    /// number here would hit an unrelated process.
    /// `worker`: the exited worker of ours this is about. A worker that lost its claim to another node's (a try queued
    /// twice after this node was taken for lost) or whose attempt was taken away exits non-zero too: the instance is
    /// then another worker's, and neither its task group nor its attempt is ours to end.
    func failOrphan(key: TaskKey, tryNumber: Int, now: Date, note: String, killsTaskGroup: Bool, worker: pid_t? = nil) throws {
        guard let instance = try store.taskInstance(key), instance.tryNumber == tryNumber,
              instance.state == .running || instance.state == .queued else { return }
        if let worker {
            guard instance.hostname == nil || instance.hostname == hostname else { return }
            if instance.state == .running, instance.pid != worker { return }
        }
        // Whatever the dead worker started must not run on beside the retry.
        if killsTaskGroup, let group = instance.taskPid, ProcessLauncher.groupIsAlive(group) {
            ProcessLauncher.signalGroup(group, SIGKILL)
            Self.awaitGroupGone(group)
        }
        let retryDelay = folder.dags[key.dagId]?.task(key.taskId)?.retry.delay(afterTry: tryNumber)
        guard let transition = TaskInstanceTransition.orphaned(instance, note: note, retryDelay: retryDelay, at: now),
              let attempt = transition.attempt else { return }
        let done: Bool
        if instance.state == .running {
            done = try store.completeAttempt(attempt, set: transition.fields)
        } else {
            done = try store.update(key, transition)
            if done { try store.recordAttempt(attempt) }
        }
        if done { log(.warning, "attempt abandoned", [("task", key.description), ("try", String(tryNumber)), ("reason", note)]) }
    }

    /// A SIGKILL takes effect a moment after it is sent, and the killed task is a zombie until init reaps it: the
    /// retry starts only once the group is gone (the soak saw a retry start 5 ms after the kill, beside its
    /// predecessor). Bounded, so a group that cannot be reaped never stalls the scheduler for long.
    static func awaitGroupGone(_ group: Int32, timeout: TimeInterval = 2) {
        let deadline = Date().addingTimeInterval(timeout)
        while ProcessLauncher.groupIsAlive(group) && Date() < deadline { usleep(1_000) }
    }

    /// Drops adopted workers that have ended; their outcome is already in the store.
    func pruneAdopted() {
        for pid in adopted.keys where !Self.isWorkerProcess(pid) { adopted.removeValue(forKey: pid) }
    }

    /// A live process that is an orchestrator worker (so a recycled pid is not mistaken for one).
    static func isWorkerProcess(_ pid: Int32) -> Bool {
        guard let name = ProcessLauncher.programName(of: pid) else { return false }
        return name.hasSuffix("orchestrator-worker") || name.hasSuffix("orchestrator-worker-postgres")
    }
}
