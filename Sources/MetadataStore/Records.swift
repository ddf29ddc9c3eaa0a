import Foundation

/// A DAG as the store knows it: its id, whether it is paused, and where it was last loaded from.
public struct DagRecord: Sendable, Equatable, Codable {
    public var dagId: String
    public var isPaused: Bool
    public var fileLocation: String?

    public init(dagId: String, isPaused: Bool, fileLocation: String?) {
        self.dagId = dagId
        self.isPaused = isPaused
        self.fileLocation = fileLocation
    }
}

public struct DagRun: Sendable, Equatable {
    public var dagId: String
    public var runId: String
    public var logicalDate: Date
    public var dataIntervalStart: Date
    public var dataIntervalEnd: Date
    public var runType: RunType
    public var state: RunState
    /// Run-level param overrides as a JSON object.
    public var paramsJSON: String
    public var backfillId: Int64?
    public var createdAt: Date
    public var startedAt: Date?
    public var endedAt: Date?

    public init(
        dagId: String, runId: String, logicalDate: Date, dataIntervalStart: Date, dataIntervalEnd: Date,
        runType: RunType, state: RunState = .queued, paramsJSON: String = "{}", backfillId: Int64? = nil,
        createdAt: Date, startedAt: Date? = nil, endedAt: Date? = nil
    ) {
        self.dagId = dagId
        self.runId = runId
        self.logicalDate = logicalDate
        self.dataIntervalStart = dataIntervalStart
        self.dataIntervalEnd = dataIntervalEnd
        self.runType = runType
        self.state = state
        self.paramsJSON = paramsJSON
        self.backfillId = backfillId
        self.createdAt = createdAt
        self.startedAt = startedAt
        self.endedAt = endedAt
    }

    /// `scheduled__2024-01-01T00:00:00Z`, as Airflow names runs.
    public static func makeRunId(type: RunType, logicalDate: Date) -> String {
        "\(type.rawValue)__\(isoUTC(logicalDate))"
    }

    static func isoUTC(_ date: Date) -> String {
        var seconds = time_t(date.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        gmtime_r(&seconds, &parts)
        return String(format: "%04d-%02d-%02dT%02d:%02d:%02dZ", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1, Int(parts.tm_mday),
                      Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec))
    }
}

/// Identifies one task instance.
public struct TaskKey: Sendable, Hashable, CustomStringConvertible {
    public var dagId: String
    public var runId: String
    public var taskId: String

    public init(dagId: String, runId: String, taskId: String) {
        self.dagId = dagId
        self.runId = runId
        self.taskId = taskId
    }

    public var description: String { "\(dagId).\(taskId) [\(runId)]" }
}

public struct TaskInstance: Sendable, Equatable {
    public var key: TaskKey
    public var state: TaskState
    /// The attempt in progress or last made; 0 before the first.
    public var tryNumber: Int
    /// Attempts allowed in all (retries + 1; raised when the instance is cleared).
    public var maxTries: Int
    public var pool: String
    public var priorityWeight: Int
    public var nextRetryAt: Date?
    /// The worker process of the current attempt, and the process group of the task it runs.
    public var pid: Int32?
    public var taskPid: Int32?
    public var hostname: String?
    public var heartbeatAt: Date?
    public var exitCode: Int32?
    public var signal: Int32?
    public var queuedAt: Date?
    public var startedAt: Date?
    public var endedAt: Date?
    public var duration: Double?
    /// Why the last attempt ended as it did, when the exit code alone does not say.
    public var note: String?

    public init(key: TaskKey, state: TaskState = .none, tryNumber: Int = 0, maxTries: Int, pool: String, priorityWeight: Int) {
        self.key = key
        self.state = state
        self.tryNumber = tryNumber
        self.maxTries = maxTries
        self.pool = pool
        self.priorityWeight = priorityWeight
    }
}

/// One column assignment of a task-instance update; `nil` payloads write NULL.
public enum TaskField: Sendable, Equatable {
    case state(TaskState)
    case tryNumber(Int)
    case maxTries(Int)
    case nextRetryAt(Date?)
    case pid(Int32?)
    case taskPid(Int32?)
    case hostname(String?)
    case heartbeatAt(Date?)
    case exitCode(Int32?)
    case signal(Int32?)
    case queuedAt(Date?)
    case startedAt(Date?)
    case endedAt(Date?)
    case duration(Double?)
    case note(String?)
}

/// One attempt of a task instance, kept after the instance moves on.
public struct TaskAttempt: Sendable, Equatable {
    public var key: TaskKey
    public var tryNumber: Int
    public var state: TaskState
    public var hostname: String?
    public var pid: Int32?
    public var startedAt: Date?
    public var endedAt: Date?
    public var exitCode: Int32?
    public var signal: Int32?
    public var note: String?

    public init(key: TaskKey, tryNumber: Int, state: TaskState, hostname: String? = nil, pid: Int32? = nil,
                startedAt: Date? = nil, endedAt: Date? = nil, exitCode: Int32? = nil, signal: Int32? = nil, note: String? = nil) {
        self.key = key
        self.tryNumber = tryNumber
        self.state = state
        self.hostname = hostname
        self.pid = pid
        self.startedAt = startedAt
        self.endedAt = endedAt
        self.exitCode = exitCode
        self.signal = signal
        self.note = note
    }
}

/// A backfill request: the runs it created or re-ran carry its id, and its own run limit applies to them.
public struct Backfill: Sendable, Equatable {
    public var id: Int64
    public var dagId: String
    public var start: Date
    public var end: Date
    public var maxActiveRuns: Int
    public var createdAt: Date

    public init(id: Int64, dagId: String, start: Date, end: Date, maxActiveRuns: Int, createdAt: Date) {
        self.id = id
        self.dagId = dagId
        self.start = start
        self.end = end
        self.maxActiveRuns = maxActiveRuns
        self.createdAt = createdAt
    }
}

/// Which runs to list.
public struct RunFilter: Sendable, Equatable {
    public var dagId: String?
    public var states: Set<RunState>?
    public var backfillId: Int64?
    public var logicalDateFrom: Date?
    public var logicalDateThrough: Date?
    public var newestFirst: Bool
    public var limit: Int?
    /// Runs to skip before the first returned (paging).
    public var offset: Int

    public init(dagId: String? = nil, states: Set<RunState>? = nil, backfillId: Int64? = nil, logicalDateFrom: Date? = nil,
                logicalDateThrough: Date? = nil, newestFirst: Bool = false, limit: Int? = nil, offset: Int = 0) {
        self.dagId = dagId
        self.states = states
        self.backfillId = backfillId
        self.logicalDateFrom = logicalDateFrom
        self.logicalDateThrough = logicalDateThrough
        self.newestFirst = newestFirst
        self.limit = limit
        self.offset = offset
    }
}

/// A notification waiting in (or done with) the outbox.
public struct OutboxMessage: Sendable, Equatable {
    public var id: Int64
    public var eventKey: String
    public var target: String
    /// The event as JSON; the sender formats it for its target.
    public var payload: String
    /// Delivery attempts made; for a claimed message, including the one just claimed.
    public var attempts: Int
    public var lastError: String?

    public init(id: Int64, eventKey: String, target: String, payload: String, attempts: Int, lastError: String?) {
        self.id = id
        self.eventKey = eventKey
        self.target = target
        self.payload = payload
        self.attempts = attempts
        self.lastError = lastError
    }
}

/// A run or task that had not succeeded by its SLA deadline (end of data interval + sla).
public struct SlaMiss: Sendable, Equatable {
    public var dagId: String
    public var runId: String
    /// nil for the run's own SLA.
    public var taskId: String?
    public var deadline: Date
    public var detectedAt: Date

    public init(dagId: String, runId: String, taskId: String?, deadline: Date, detectedAt: Date) {
        self.dagId = dagId
        self.runId = runId
        self.taskId = taskId
        self.deadline = deadline
        self.detectedAt = detectedAt
    }
}
