/// The life of a DAG run: created queued, running once started, then success or failed.
public enum RunState: String, Sendable, Codable, CaseIterable {
    case queued, running, success, failed

    public var isFinished: Bool { self == .success || self == .failed }
}

public enum RunType: String, Sendable, Codable, CaseIterable {
    case scheduled, manual, backfill
}

/// The life of a task instance, as in Airflow: `none` until its upstreams allow it, `scheduled` when it may
/// start, `queued` once a worker is being started for it, `running` once the worker has claimed it.
public enum TaskState: String, Sendable, Codable, CaseIterable {
    case none, scheduled, queued, running, success, failed
    case upForRetry = "up_for_retry"
    case upstreamFailed = "upstream_failed"
    case skipped

    /// No further attempt will be made unless the instance is cleared.
    public var isFinished: Bool {
        switch self {
        case .success, .failed, .upstreamFailed, .skipped: return true
        default: return false
        }
    }

    /// The states that keep a run from finishing.
    public static let unfinished = allCases.filter { !$0.isFinished }

    /// Holds a worker slot.
    public var isActive: Bool { self == .queued || self == .running }
}
