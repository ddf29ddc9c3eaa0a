import Foundation
import MetadataStore

/// Counts durations into cumulative buckets (a Prometheus histogram) from the scheduler's thread, read by the
/// status server's threads.
public final class LatencyRecorder: @unchecked Sendable {
    private let lock = NSLock()
    private let buckets: [Double]
    private var histogram: DurationHistogram

    public init(buckets: [Double]) {
        self.buckets = buckets
        histogram = DurationHistogram(bucketCounts: Array(repeating: 0, count: buckets.count), count: 0, sum: 0)
    }

    public func record(_ seconds: Double) {
        lock.withLock {
            for (index, bound) in buckets.enumerated() where seconds <= bound { histogram.bucketCounts[index] += 1 }
            histogram.count += 1
            histogram.sum += seconds
        }
    }

    public func snapshot() -> DurationHistogram { lock.withLock { histogram } }
}
