import Foundation

/// One change of a task instance, decided without I/O: the states it may be in (the compare-and-set guard), the
/// try it must be at, and the fields to write. The schedulers (daemon and backfill) and every store take their
/// fields from here, so that a rule such as "a poke gives its try back" is written once. The worker, which links
/// no Foundation, writes the same fields in its own SQL (`poked` and `attemptEnded` describe them); the
/// conformance suite pins that it does.
public struct TaskInstanceTransition: Sendable, Equatable {
    public var expecting: Set<TaskState>
    /// The attempt the instance must be at; nil: any.
    public var tryNumber: Int?
    public var fields: [TaskField]
    /// An attempt to record in the same transaction (an abandoned one).
    public var attempt: TaskAttempt?
    /// The try whose attempt, if it never ended, goes with this change (a cleared sensor waiting between pokes).
    public var discardsOpenAttempt: Int?

    public init(expecting: Set<TaskState>, tryNumber: Int?, fields: [TaskField], attempt: TaskAttempt? = nil,
                discardsOpenAttempt: Int? = nil) {
        self.expecting = expecting
        self.tryNumber = tryNumber
        self.fields = fields
        self.attempt = attempt
        self.discardsOpenAttempt = discardsOpenAttempt
    }

    /// The planner's decision (none → scheduled, skipped, upstream_failed; up_for_retry → scheduled): a finished
    /// state also records when and why. Guarded by the try the planner read too: with several schedulers, another
    /// may have run that try and come back to the same state at the next one (an up_for_retry whose delay has not
    /// passed), and a decision taken on the older read must not apply to it.
    public static func decided(from: TaskState, to: TaskState, note: String?, tryNumber: Int?, at now: Date) -> TaskInstanceTransition {
        var fields: [TaskField] = [.state(to)]
        if to.isFinished { fields += [.endedAt(now), .note(note)] }
        return TaskInstanceTransition(expecting: [from], tryNumber: tryNumber, fields: fields)
    }

    /// scheduled → queued at the next try, on this host, with everything the previous try left behind cleared.
    public static func claimed(_ instance: TaskInstance, hostname: String, at now: Date) -> TaskInstanceTransition {
        TaskInstanceTransition(expecting: [.scheduled], tryNumber: instance.tryNumber, fields: [
            .state(.queued), .tryNumber(instance.tryNumber + 1), .queuedAt(now), .hostname(hostname), .pid(nil), .taskPid(nil),
            .exitCode(nil), .signal(nil), .note(nil), .nextRetryAt(nil), .startedAt(nil), .endedAt(nil), .duration(nil),
            // The previous try's heartbeat would make recovery judge this try's worker by it.
            .heartbeatAt(nil),
        ])
    }

    /// scheduled → failed before any attempt: the task cannot be rendered, its pool or a connection is missing.
    /// Guarded by the try read (nil: any), like a planner's decision.
    public static func cannotRun(note: String, tryNumber: Int? = nil, at now: Date) -> TaskInstanceTransition {
        TaskInstanceTransition(expecting: [.scheduled], tryNumber: tryNumber, fields: [.state(.failed), .endedAt(now), .note(note)])
    }

    /// queued → failed: the worker process for this try could not be started.
    public static func spawnFailed(tryNumber: Int, note: String, at now: Date) -> TaskInstanceTransition {
        TaskInstanceTransition(expecting: [.queued], tryNumber: tryNumber, fields: [.state(.failed), .endedAt(now), .note(note)])
    }

    /// queued → scheduled: the worker died before claiming its try, so no attempt was made and the try is given back.
    public static func neverStarted(_ instance: TaskInstance) -> TaskInstanceTransition {
        TaskInstanceTransition(expecting: [.queued], tryNumber: instance.tryNumber, fields: [
            .state(.scheduled), .tryNumber(max(0, instance.tryNumber - 1)), .pid(nil), .queuedAt(nil),
        ])
    }

    /// running → how the attempt ended (success, up_for_retry with its next time, or failed), as a worker records it.
    public static func attemptEnded(_ instance: TaskInstance, state: TaskState, exitCode: Int32?, signal: Int32?,
                                    nextRetryAt: Date?, note: String?, at now: Date) -> TaskInstanceTransition {
        TaskInstanceTransition(expecting: [.running], tryNumber: instance.tryNumber, fields: [
            .state(state), .endedAt(now), .duration(instance.startedAt.map { now.timeIntervalSince($0) }), .exitCode(exitCode),
            .signal(signal), .nextRetryAt(nextRetryAt), .note(note), .heartbeatAt(now),
        ])
    }

    /// A queued or running try whose worker is gone: failed, or up_for_retry after `retryDelay` while tries remain
    /// (nil: the task is no longer in its DAG, so it does not retry). The abandoned attempt is recorded with it.
    public static func orphaned(_ instance: TaskInstance, note: String, retryDelay: Double?, at now: Date) -> TaskInstanceTransition? {
        guard instance.state == .running || instance.state == .queued else { return nil }
        let willRetry = retryDelay != nil && instance.tryNumber < instance.maxTries
        let state: TaskState = willRetry ? .upForRetry : .failed
        let retryAt = willRetry ? now.addingTimeInterval(retryDelay ?? 0) : nil
        let attempt = TaskAttempt(key: instance.key, tryNumber: instance.tryNumber, state: state, hostname: instance.hostname,
                                  pid: instance.pid, startedAt: instance.startedAt, endedAt: now, note: note)
        return TaskInstanceTransition(expecting: [instance.state], tryNumber: instance.tryNumber, fields: [
            .state(state), .endedAt(now), .nextRetryAt(retryAt), .note(note), .duration(instance.startedAt.map { now.timeIntervalSince($0) }),
        ], attempt: attempt)
    }

    /// A sensor's condition does not hold yet: running → up_for_retry at the try before (a poke uses no try), due
    /// again at `nextPokeAt`. Its attempt stays open: the next poke's claim keeps its start.
    public static func poked(_ instance: TaskInstance, nextPokeAt: Date, note: String, at now: Date) -> TaskInstanceTransition {
        TaskInstanceTransition(expecting: [.running], tryNumber: instance.tryNumber, fields: [
            .state(.upForRetry), .tryNumber(instance.tryNumber - 1), .nextRetryAt(nextPokeAt), .note(note), .heartbeatAt(now),
            .pid(nil), .taskPid(nil),
        ])
    }

    /// Back to none so it runs again with `extraTries` more tries; its history stays. Nil for a queued or running
    /// instance, which is left alone. A sensor waiting between pokes has an attempt that never ended (try + 1): it
    /// goes, so the cleared sensor's timeout counts from its next first poke.
    public static func cleared(_ instance: TaskInstance, extraTries: Int) -> TaskInstanceTransition? {
        guard !instance.state.isActive else { return nil }
        return TaskInstanceTransition(expecting: [instance.state], tryNumber: instance.tryNumber, fields: [
            .state(.none), .maxTries(instance.tryNumber + extraTries), .nextRetryAt(nil), .pid(nil), .taskPid(nil), .heartbeatAt(nil),
            .exitCode(nil), .signal(nil), .queuedAt(nil), .startedAt(nil), .endedAt(nil), .duration(nil), .note(nil),
        ], discardsOpenAttempt: instance.tryNumber + 1)
    }
}
