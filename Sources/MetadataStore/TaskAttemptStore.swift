import Foundation

/// The history of attempts (one row per try of a task instance). Named apart from WorkerCore's `AttemptStore`,
/// the worker's few compare-and-sets.
public protocol TaskAttemptStore: Sendable {
    /// Inserts or updates the attempt. Contract (pinned by the conformance suite): a later write of the same try
    /// keeps the start first recorded (a sensor's attempt starts at its first poke), and replaces everything else.
    func recordAttempt(_ attempt: TaskAttempt) throws
    /// Ends an attempt in one transaction: the instance moves from running at `attempt.tryNumber` to the
    /// fields given, and the attempt is recorded. False (and nothing written) when the instance moved on.
    func completeAttempt(_ attempt: TaskAttempt, set fields: [TaskField]) throws -> Bool
    func attempts(_ key: TaskKey) throws -> [TaskAttempt]
    /// Finished attempts' durations per DAG: how many fell at or under each bound of `buckets`, their count and sum.
    func taskDurationHistogram(buckets: [Double]) throws -> [String: DurationHistogram]
}

/// Cumulative counts per bucket bound, as Prometheus histograms want them.
public struct DurationHistogram: Sendable, Equatable {
    public var bucketCounts: [Int]
    public var count: Int
    public var sum: Double

    public init(bucketCounts: [Int], count: Int, sum: Double) {
        self.bucketCounts = bucketCounts
        self.count = count
        self.sum = sum
    }
}
