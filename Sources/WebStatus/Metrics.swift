import Foundation
import MetadataStore

/// /metrics in Prometheus text format: runs and task instances by state, queue depth, task durations,
/// the scheduler's pass latency, notifications and import errors.
extension StatusServer {
    static let durationBuckets: [Double] = [1, 5, 15, 60, 300, 900, 3600, 14_400]

    func metrics() throws -> String {
        var lines = ["# HELP orchestrator_runs DAG runs by state.", "# TYPE orchestrator_runs gauge"]
        let runs = try store.runCountsByState()
        for state in RunState.allCases {
            lines.append("orchestrator_runs{state=\"\(state.rawValue)\"} \(runs[state] ?? 0)")
        }
        lines += ["# HELP orchestrator_task_instances Task instances of unfinished runs by state.", "# TYPE orchestrator_task_instances gauge"]
        let active = try store.taskInstances(states: Set(TaskState.allCases.filter { !$0.isFinished }))
        for state in TaskState.allCases where !state.isFinished {
            lines.append("orchestrator_task_instances{state=\"\(state.rawValue)\"} \(active.filter { $0.state == state }.count)")
        }
        let queued = active.filter { $0.state == .scheduled || $0.state == .queued }.count
        lines += ["# HELP orchestrator_queue_depth Task instances waiting for a worker.", "# TYPE orchestrator_queue_depth gauge",
                  "orchestrator_queue_depth \(queued)"]
        lines += ["# HELP orchestrator_task_duration_seconds Durations of finished task attempts.", "# TYPE orchestrator_task_duration_seconds histogram"]
        for (dagId, histogram) in try store.taskDurationHistogram(buckets: Self.durationBuckets).sorted(by: { $0.key < $1.key }) {
            lines += Self.histogramLines("orchestrator_task_duration_seconds", label: "dag_id=\"\(Self.labelValue(dagId))\",",
                                         buckets: Self.durationBuckets, histogram)
        }
        if let latency = setup.loopLatency?() {
            lines += ["# HELP orchestrator_scheduler_loop_seconds Time of each scheduler pass (create runs, decide, dispatch).",
                      "# TYPE orchestrator_scheduler_loop_seconds histogram"]
            lines += Self.histogramLines("orchestrator_scheduler_loop_seconds", label: "", buckets: Self.loopBuckets, latency)
        }
        let notifications = try store.notificationCounts()
        lines += ["# HELP orchestrator_notifications Notifications by outcome.", "# TYPE orchestrator_notifications gauge",
                  "orchestrator_notifications{state=\"pending\"} \(notifications.pending)",
                  "orchestrator_notifications{state=\"delivered\"} \(notifications.delivered)",
                  "orchestrator_notifications{state=\"failed\"} \(notifications.failed)",
                  "# HELP orchestrator_import_errors DAG files that fail to load.", "# TYPE orchestrator_import_errors gauge",
                  "orchestrator_import_errors \(try store.importErrors().count)"]
        let binding = bindStatus
        lines += ["# HELP orchestrator_web_bind_failures_total Times the status server could not bind its address (retried with backoff).",
                  "# TYPE orchestrator_web_bind_failures_total counter", "orchestrator_web_bind_failures_total \(binding.failures)"]
        return lines.joined(separator: "\n") + "\n"
    }

    /// The bounds the daemon's pass-latency recorder uses (seconds).
    public static let loopBuckets: [Double] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1]

    static func histogramLines(_ name: String, label: String, buckets: [Double], _ histogram: DurationHistogram) -> [String] {
        var lines: [String] = []
        for (bound, count) in zip(buckets, histogram.bucketCounts) {
            lines.append("\(name)_bucket{\(label)le=\"\(bound)\"} \(count)")
        }
        lines.append("\(name)_bucket{\(label)le=\"+Inf\"} \(histogram.count)")
        let plain = label.isEmpty ? "" : "{\(label.dropLast())}"
        lines.append("\(name)_sum\(plain) \(histogram.sum)")
        lines.append("\(name)_count\(plain) \(histogram.count)")
        return lines
    }

    /// Label values escape backslash, quote and newline (DAG ids cannot hold them, but the format requires it).
    static func labelValue(_ text: String) -> String {
        text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"").replacingOccurrences(of: "\n", with: "\\n")
    }
}
