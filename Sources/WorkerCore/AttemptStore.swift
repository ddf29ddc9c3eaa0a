/// One attempt of one task instance.
public struct AttemptKey: Sendable, Hashable, CustomStringConvertible {
    public var dagId: String
    public var runId: String
    public var taskId: String
    public var tryNumber: Int

    public init(dagId: String, runId: String, taskId: String, tryNumber: Int) {
        self.dagId = dagId
        self.runId = runId
        self.taskId = taskId
        self.tryNumber = tryNumber
    }

    public var description: String { "\(dagId).\(taskId) [\(runId)]" }
}

/// How an attempt ended, as the worker records it. Times are Unix seconds.
public struct AttemptOutcome: Sendable, Equatable {
    /// `success`, `up_for_retry` or `failed` (the task-instance states of MetadataStore).
    public var state: String
    public var startedAt: Double
    public var endedAt: Double
    public var exitCode: Int32?
    public var signal: Int32?
    public var nextRetryAt: Double?
    public var note: String?

    public init(state: String, startedAt: Double, endedAt: Double, exitCode: Int32?, signal: Int32?, nextRetryAt: Double?, note: String?) {
        self.state = state
        self.startedAt = startedAt
        self.endedAt = endedAt
        self.exitCode = exitCode
        self.signal = signal
        self.nextRetryAt = nextRetryAt
        self.note = note
    }
}

/// What a worker's heartbeat found.
public enum HeartbeatResult: Sendable, Equatable {
    /// The attempt is still this worker's: running at its try; the heartbeat was stamped.
    case ours
    /// The instance moved on under the worker (another node declared it lost, or it was cleared or marked): its
    /// state and try now, nil when the instance is gone. Nothing was written.
    case takenAway(state: String?, tryNumber: Int?)
}

/// A failed write of the worker, with the same kinds as the metadata store's `StoreError` (a subset).
public struct AttemptStoreError: Error, Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        /// Another transaction got in the way (serialization failure, deadlock, busy): retrying may succeed.
        case conflict
        /// The store cannot be reached or opened.
        case unavailable
        case permanent
    }

    public let kind: Kind
    public let description: String
    public init(_ description: String, kind: Kind = .permanent) {
        self.description = description
        self.kind = kind
    }
}

/// The few writes a worker makes, each a compare-and-set on the attempt it was given, so that a worker
/// whose attempt was taken over (orphan recovery, a cleared task) changes nothing. Kept this narrow so the
/// worker stays a small process: it links this protocol's implementation, not the whole metadata store.
public protocol AttemptStore {
    /// queued → running at `key.tryNumber`, and the attempt recorded, in one transaction. Returns when this try
    /// first started (earlier than `time` for a sensor's later pokes), or nil if the attempt was not ours.
    func claim(_ key: AttemptKey, pid: Int32, hostname: String, at time: Double) throws(AttemptStoreError) -> Double?
    /// A sensor's condition does not hold yet: running → up_for_retry at the same try (a poke uses no try),
    /// due again at `nextPokeAt`.
    func reschedule(_ key: AttemptKey, nextPokeAt: Double, note: String, at time: Double) throws(AttemptStoreError) -> Bool
    /// The process group of the task, so a later scheduler can kill what a dead worker left behind.
    func setTaskPid(_ key: AttemptKey, taskPid: Int32) throws(AttemptStoreError)
    /// Stamps the running attempt's heartbeat (a compare-and-set on its state and try): `time` on SQLite (one machine),
    /// the server's clock on PostgreSQL, which every node judges heartbeat ages by.
    func heartbeat(_ key: AttemptKey, at time: Double) throws(AttemptStoreError) -> HeartbeatResult
    /// running → the outcome's state, and the attempt recorded, in one transaction; false if the attempt moved on.
    func complete(_ key: AttemptKey, hostname: String, pid: Int32, outcome: AttemptOutcome) throws(AttemptStoreError) -> Bool
    /// For a write sent again after whoever was asked first went away without answering (it may have written it): the
    /// answer that write got if it landed, else nil. Only writes that refuse a second time need it (claim, reschedule,
    /// complete); a store no one resends to keeps the default, nil.
    func landed(_ request: AttemptRequest) throws(AttemptStoreError) -> AttemptReply?
}

extension AttemptStore {
    public func landed(_ request: AttemptRequest) throws(AttemptStoreError) -> AttemptReply? { nil }
}
