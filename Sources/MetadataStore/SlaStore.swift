import Foundation

/// SLA misses, each recorded once.
public protocol SlaStore: Sendable {
    /// Records that a run (taskId nil) or a task missed its SLA; false if already recorded.
    func recordSlaMiss(dagId: String, runId: String, taskId: String?, deadline: Date, at time: Date) throws -> Bool
    func slaMisses(dagId: String?) throws -> [SlaMiss]
}
