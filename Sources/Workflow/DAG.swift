import Foundation

/// A validated, immutable DAG as loaded from one file.
public struct DAG: Sendable, Equatable {
    public let dagId: String
    public let description: String?
    /// The file it was loaded from; commands run in its folder by default.
    public let filePath: String
    public let timetable: Timetable
    public let startDate: Date
    public let endDate: Date?
    public let catchup: Bool
    public let maxActiveRuns: Int
    public let maxActiveTasks: Int
    public let params: [String: ConfigValue]
    /// Tasks in a topological order: every task comes after its upstreams.
    public let tasks: [TaskDefinition]
    /// Notification targets (names from the configuration, or webhook URLs) for failures and for successes.
    public var onFailure: [String] = []
    public var onSuccess: [String] = []
    /// A run should have succeeded this long after its data interval ends (seconds); a miss is recorded and notified.
    public var sla: Double?
    /// Index of each task in `tasks`: lookups by id stay constant-time in DAGs of thousands of tasks.
    private let taskPositions: [String: Int]

    public init(
        dagId: String, description: String?, filePath: String, timetable: Timetable, startDate: Date, endDate: Date?,
        catchup: Bool, maxActiveRuns: Int, maxActiveTasks: Int, params: [String: ConfigValue], tasks: [TaskDefinition]
    ) {
        self.dagId = dagId
        self.description = description
        self.filePath = filePath
        self.timetable = timetable
        self.startDate = startDate
        self.endDate = endDate
        self.catchup = catchup
        self.maxActiveRuns = maxActiveRuns
        self.maxActiveTasks = maxActiveTasks
        self.params = params
        self.tasks = tasks
        taskPositions = Dictionary(tasks.enumerated().map { ($1.id, $0) }, uniquingKeysWith: { first, _ in first })
    }

    public var folder: String { (filePath as NSString).deletingLastPathComponent }

    public func task(_ id: String) -> TaskDefinition? { taskPositions[id].map { tasks[$0] } }

    /// The next scheduled run after the latest existing one: its logical date, and when it falls due (the end
    /// of its data interval). nil for manual-only DAGs and past the end date.
    public func nextScheduledRun(latestExisting: Date?) -> (logicalDate: Date, due: Date)? {
        let nextLogical = latestExisting.flatMap { timetable.next(after: $0) } ?? timetable.firstFire(atOrAfter: startDate)
        guard let nextLogical, CivilDate.isSupported(nextLogical) else { return nil }  // no run dated past year 9999
        if let endDate, nextLogical > endDate { return nil }
        return timetable.next(after: nextLogical).map { (nextLogical, $0) }
    }

    /// Task ids that depend directly on `taskId`.
    public func directDownstream(of taskId: String) -> [String] {
        tasks.filter { $0.dependsOn.contains(taskId) }.map(\.id)
    }

    /// `taskIds` and everything downstream of them, transitively.
    public func withDownstream(_ taskIds: Set<String>) -> Set<String> {
        var result = taskIds
        for task in tasks where !result.contains(task.id) && task.dependsOn.contains(where: result.contains) {
            result.insert(task.id)  // tasks are topologically ordered, so one pass suffices
        }
        return result
    }
}

/// What a task runs: a shell command, an operation of the transform library, or a sensor that waits.
public enum TaskAction: Sendable, Equatable {
    case command(String)
    case transform(name: String, with: ConfigValue)
    case sensor(SensorDefinition)
}

/// A task that waits for a condition: a file to exist, a SQL query to return a row, or a task of another DAG
/// to succeed for the same logical date. Each poke is a short attempt; between pokes no process is held.
public struct SensorDefinition: Sendable, Equatable {
    /// `file`, `sql` or `external_task`.
    public let kind: String
    /// The kind's options (templated strings): `path`; `query` and `connection`; `dag` and `task`.
    public let options: ConfigValue
    public let pokeInterval: Double
    public let timeout: Double

    public init(kind: String, options: ConfigValue, pokeInterval: Double, timeout: Double) {
        self.kind = kind
        self.options = options
        self.pokeInterval = pokeInterval
        self.timeout = timeout
    }
}

public struct TaskDefinition: Sendable, Equatable {
    public let id: String
    public let action: TaskAction
    public let dependsOn: [String]
    public let triggerRule: TriggerRule
    public let retry: RetryPolicy
    /// Seconds; nil means no limit.
    public let executionTimeout: Double?
    public let dependsOnPast: Bool
    public let pool: String
    public let priorityWeight: Int
    public let env: [String: String]
    /// Relative to the DAG file's folder unless absolute.
    public let cwd: String?
    /// The task should have succeeded this long after the run's data interval ends (seconds).
    public var sla: Double?
    /// Named connections the task's process receives as `ORCHESTRATOR_CONN_<NAME>` (it gets no others).
    public var connections: [String] = []

    public init(
        id: String, action: TaskAction, dependsOn: [String] = [], triggerRule: TriggerRule = .allSuccess,
        retry: RetryPolicy = RetryPolicy(), executionTimeout: Double? = nil, dependsOnPast: Bool = false,
        pool: String = TaskDefinition.defaultPool, priorityWeight: Int = 1, env: [String: String] = [:], cwd: String? = nil
    ) {
        self.id = id
        self.action = action
        self.dependsOn = dependsOn
        self.triggerRule = triggerRule
        self.retry = retry
        self.executionTimeout = executionTimeout
        self.dependsOnPast = dependsOnPast
        self.pool = pool
        self.priorityWeight = priorityWeight
        self.env = env
        self.cwd = cwd
    }

    public static let defaultPool = "default_pool"
}

/// When a task may run, given the states of its direct upstreams (Airflow's trigger rules).
public enum TriggerRule: String, Sendable, Equatable, CaseIterable {
    case allSuccess = "all_success"
    case allFailed = "all_failed"
    case allDone = "all_done"
    case oneSuccess = "one_success"
    case oneFailed = "one_failed"
    case noneFailed = "none_failed"
    case noneFailedMinOneSuccess = "none_failed_min_one_success"
}

/// How often and how soon a failed attempt is tried again.
public struct RetryPolicy: Sendable, Equatable, Codable {
    public var retries: Int
    /// Seconds before the first retry.
    public var retryDelay: Double
    public var exponentialBackoff: Bool
    /// Upper bound in seconds for the delay; nil means none.
    public var maxRetryDelay: Double?

    public init(retries: Int = 0, retryDelay: Double = 300, exponentialBackoff: Bool = false, maxRetryDelay: Double? = nil) {
        self.retries = retries
        self.retryDelay = retryDelay
        self.exponentialBackoff = exponentialBackoff
        self.maxRetryDelay = maxRetryDelay
    }

    /// Attempts in all: the first one plus the retries (saturating: validation keeps retries within 0…100).
    public var maxTries: Int {
        let (tries, overflow) = max(retries, 0).addingReportingOverflow(1)
        return overflow ? Int.max : tries
    }

    /// Seconds to wait after attempt `tryNumber` (1-based) failed, before attempt `tryNumber + 1`.
    /// Exponential backoff doubles the delay for each attempt: delay, 2·delay, 4·delay…, capped by max_retry_delay.
    /// Whatever the try number, the result saturates at `DagLimits.longestDuration`: a retry time is always a date.
    public func delay(afterTry tryNumber: Int) -> Double {
        var delay = retryDelay
        if exponentialBackoff {
            let exponent = tryNumber <= 1 ? 0 : min(tryNumber - 1, 60)
            delay = retryDelay * Double(UInt64(1) << UInt64(exponent))
        }
        if let cap = maxRetryDelay { delay = min(delay, cap) }
        guard delay.isFinite, delay > 0 else { return delay.isNaN || delay <= 0 ? 0 : DagLimits.longestDuration }
        return min(delay, DagLimits.longestDuration)
    }
}
