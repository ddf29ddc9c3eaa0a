import Foundation
import MetadataStore

/// A task instance that may start, with what ordering needs.
public struct DispatchCandidate: Sendable, Equatable {
    public var instance: TaskInstance
    public var logicalDate: Date
    /// Position of the task in its DAG's topological order.
    public var taskOrder: Int
    public var maxActiveTasks: Int

    public init(instance: TaskInstance, logicalDate: Date, taskOrder: Int, maxActiveTasks: Int) {
        self.instance = instance
        self.logicalDate = logicalDate
        self.taskOrder = taskOrder
        self.maxActiveTasks = maxActiveTasks
    }
}

/// Picks which scheduled task instances to try now, within the node's, per-DAG and per-pool limits as one read
/// shows them. It only spares the store hopeless claims: `TaskInstanceStore.claimForDispatch` counts again, in the
/// claim's transaction, and has the last word across processes and nodes.
public enum DispatchPlanner {
    public struct Limits: Sendable, Equatable {
        /// Instances active at once on this node.
        public var parallelism: Int
        public var poolSlots: [String: Int]
        /// This node: only its own active instances count against its parallelism (nil: every active instance).
        public var node: String?
        public init(parallelism: Int, poolSlots: [String: Int], node: String? = nil) {
            self.parallelism = parallelism
            self.poolSlots = poolSlots
            self.node = node
        }
    }

    public struct Plan: Sendable, Equatable {
        public var start: [TaskInstance] = []
        /// Instances naming a pool that does not exist: they cannot run.
        public var unknownPool: [TaskInstance] = []
    }

    /// Higher priority_weight first, then older logical dates, then upstream tasks before downstream ones.
    public static func plan(candidates: [DispatchCandidate], active: [TaskInstance], limits: Limits) -> Plan {
        var plan = Plan()
        var running = limits.node.map { node in active.filter { $0.hostname == node }.count } ?? active.count
        var perDag: [String: Int] = [:]
        var perPool: [String: Int] = [:]
        for instance in active {
            perDag[instance.key.dagId, default: 0] += 1
            perPool[instance.pool, default: 0] += 1
        }
        let ordered = candidates.sorted { a, b in
            if a.instance.priorityWeight != b.instance.priorityWeight { return a.instance.priorityWeight > b.instance.priorityWeight }
            if a.logicalDate != b.logicalDate { return a.logicalDate < b.logicalDate }
            if a.instance.key.dagId != b.instance.key.dagId { return a.instance.key.dagId < b.instance.key.dagId }
            return a.taskOrder < b.taskOrder
        }
        for candidate in ordered {
            let instance = candidate.instance
            guard let slots = limits.poolSlots[instance.pool] else {
                plan.unknownPool.append(instance)
                continue
            }
            guard running < limits.parallelism else { break }
            guard perDag[instance.key.dagId, default: 0] < candidate.maxActiveTasks,
                  perPool[instance.pool, default: 0] < slots else { continue }
            plan.start.append(instance)
            running += 1
            perDag[instance.key.dagId, default: 0] += 1
            perPool[instance.pool, default: 0] += 1
        }
        return plan
    }
}
