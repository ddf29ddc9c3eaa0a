import Foundation
import MetadataStore
import WorkerCore
import XCTest

// Attempts: their history, and the worker's compare-and-sets.
extension StoreConformanceTests {
    func testCompleteAttemptOnlyAppliesToTheRunningTry() throws {
        let store = try makeStore()
        let run = try insertRun(store)
        let extract = key(run, "extract")

        // Not running yet: refused, nothing recorded.
        let early = TaskAttempt(key: extract, tryNumber: 0, state: .success)
        XCTAssertFalse(try store.completeAttempt(early, set: [.state(.success)]))
        XCTAssertEqual(try store.attempts(extract), [])

        XCTAssertEqual(try start(store, extract), 1)
        let first = TaskAttempt(key: extract, tryNumber: 1, state: .upForRetry, hostname: "h", pid: 10, startedAt: day(1),
                                endedAt: day(1).addingTimeInterval(3), exitCode: 1, note: "exit 1")
        XCTAssertTrue(try store.completeAttempt(first, set: [.state(.upForRetry), .exitCode(1), .nextRetryAt(day(2))]))
        var ti = try XCTUnwrap(store.taskInstance(extract))
        XCTAssertEqual(ti.state, .upForRetry)
        XCTAssertEqual(ti.exitCode, 1)
        XCTAssertEqual(ti.nextRetryAt, day(2))
        XCTAssertEqual(try store.attempts(extract), [first])

        // The same attempt reported twice (e.g. by recovery after the worker): refused, history unchanged.
        let duplicate = TaskAttempt(key: extract, tryNumber: 1, state: .failed, note: "orphaned")
        XCTAssertFalse(try store.completeAttempt(duplicate, set: [.state(.failed)]))
        XCTAssertEqual(try state(store, extract), .upForRetry)
        XCTAssertEqual(try store.attempts(extract), [first])

        // Second try; a stale report about try 1 cannot end it.
        XCTAssertTrue(try store.updateTaskInstance(extract, expecting: [.upForRetry], tryNumber: nil, set: [.state(.scheduled)]))
        XCTAssertEqual(try start(store, extract), 2)
        let stale = TaskAttempt(key: extract, tryNumber: 1, state: .failed)
        XCTAssertFalse(try store.completeAttempt(stale, set: [.state(.failed)]))
        XCTAssertEqual(try state(store, extract), .running)

        let second = TaskAttempt(key: extract, tryNumber: 2, state: .success, hostname: "h", pid: 11, startedAt: day(2),
                                 endedAt: day(2).addingTimeInterval(1), exitCode: 0, signal: nil)
        XCTAssertTrue(try store.completeAttempt(second, set: [.state(.success), .exitCode(0), .endedAt(day(2))]))
        ti = try XCTUnwrap(store.taskInstance(extract))
        XCTAssertEqual(ti.state, .success)
        XCTAssertEqual(ti.tryNumber, 2)
        XCTAssertEqual(ti.endedAt, day(2))
        XCTAssertEqual(try store.attempts(extract), [first, second])
    }

    func testRecordAttemptUpserts() throws {
        let store = try makeStore()
        let run = try insertRun(store)
        let extract = key(run, "extract")
        try store.recordAttempt(TaskAttempt(key: extract, tryNumber: 1, state: .running, hostname: "h", pid: 5, startedAt: day(1)))
        let ended = TaskAttempt(key: extract, tryNumber: 1, state: .failed, hostname: "h", pid: 5, startedAt: day(1),
                                endedAt: day(2), exitCode: nil, signal: 9, note: "killed")
        try store.recordAttempt(ended)
        XCTAssertEqual(try store.attempts(extract), [ended])
        XCTAssertEqual(try store.attempts(key(run, "load")), [])
    }

    func testARecordedAttemptKeepsItsFirstStart() throws {
        let store = try makeStore()
        let extract = key(try insertRun(store), "extract")
        try store.recordAttempt(TaskAttempt(key: extract, tryNumber: 1, state: .running, hostname: "h", pid: 5, startedAt: day(1)))
        // A sensor's later poke, or recovery, writes the same try again with a later start: the first one stays.
        try store.recordAttempt(TaskAttempt(key: extract, tryNumber: 1, state: .failed, hostname: "h2", pid: 6,
                                            startedAt: day(2), endedAt: day(3), note: "lost"))
        XCTAssertEqual(try store.attempts(extract), [TaskAttempt(key: extract, tryNumber: 1, state: .failed, hostname: "h2", pid: 6,
                                                                 startedAt: day(1), endedAt: day(3), note: "lost")])
    }

    // MARK: The worker's attempt store

    /// Queues `key` at try 1, as the scheduler does before it starts a worker.
    private func queue(_ store: any MetadataStore, _ key: TaskKey) throws {
        XCTAssertTrue(try store.updateTaskInstance(key, expecting: [.none], tryNumber: 0, set: [.state(.queued), .tryNumber(1)]))
    }

    /// A try queued by one node is claimed by that node's worker only: after a node was taken for lost, its try given
    /// back and queued again by another node, the first node's slow worker must not take it.
    func testAWorkerClaimsOnlyATryItsOwnNodeQueued() throws {
        let store = try makeStore()
        let extract = key(try insertRun(store), "extract")
        let worker = try makeAttemptStore()
        XCTAssertTrue(try store.updateTaskInstance(extract, expecting: [.none], tryNumber: 0,
                                                   set: [.state(.queued), .tryNumber(1), .hostname("node-b")]))
        let attempt = AttemptKey(dagId: extract.dagId, runId: extract.runId, taskId: extract.taskId, tryNumber: 1)
        XCTAssertNil(try worker.claim(attempt, pid: 10, hostname: "node-a", at: day(1).timeIntervalSince1970), "node-b queued it")
        XCTAssertEqual(try store.taskInstance(extract)?.state, .queued)
        XCTAssertEqual(try worker.claim(attempt, pid: 11, hostname: "node-b", at: day(1).timeIntervalSince1970), day(1).timeIntervalSince1970)
        XCTAssertEqual(try store.taskInstance(extract)?.pid, 11)
    }

    func testAWorkerClaimsOnlyTheQueuedTryItWasGiven() throws {
        let store = try makeStore()
        let extract = key(try insertRun(store), "extract")
        let worker = try makeAttemptStore()
        let attempt = AttemptKey(dagId: extract.dagId, runId: extract.runId, taskId: extract.taskId, tryNumber: 1)
        XCTAssertNil(try worker.claim(attempt, pid: 10, hostname: "h", at: day(1).timeIntervalSince1970), "not queued yet")
        try queue(store, extract)
        let stale = AttemptKey(dagId: extract.dagId, runId: extract.runId, taskId: extract.taskId, tryNumber: 2)
        XCTAssertNil(try worker.claim(stale, pid: 10, hostname: "h", at: day(1).timeIntervalSince1970))

        XCTAssertEqual(try worker.claim(attempt, pid: 10, hostname: "h", at: day(1).timeIntervalSince1970), day(1).timeIntervalSince1970)
        XCTAssertNil(try worker.claim(attempt, pid: 11, hostname: "h", at: day(1).timeIntervalSince1970), "claimed once")
        let ti = try XCTUnwrap(store.taskInstance(extract))
        XCTAssertEqual([ti.state], [.running])
        XCTAssertEqual(ti.pid, 10)
        XCTAssertEqual(ti.startedAt, day(1))
        XCTAssertEqual(try store.attempts(extract).map(\.state), [.running])

        try worker.setTaskPid(attempt, taskPid: 12)
        XCTAssertEqual(try worker.heartbeat(attempt, at: day(2).timeIntervalSince1970), .ours)
        XCTAssertEqual(try store.taskInstance(extract)?.taskPid, 12)
        try assertStamped(try store.taskInstance(extract)?.heartbeatAt, localTime: day(2), store: store)
        XCTAssertEqual(try worker.heartbeat(stale, at: day(2).timeIntervalSince1970), .takenAway(state: "running", tryNumber: 1),
                       "another try's heartbeat is not this one's")

        let outcome = AttemptOutcome(state: "up_for_retry", startedAt: day(1).timeIntervalSince1970, endedAt: day(1).timeIntervalSince1970 + 4,
                                     exitCode: 1, signal: nil, nextRetryAt: day(3).timeIntervalSince1970, note: "exit 1")
        XCTAssertFalse(try worker.complete(stale, hostname: "h", pid: 10, outcome: outcome), "a stale try ends nothing")
        XCTAssertTrue(try worker.complete(attempt, hostname: "h", pid: 10, outcome: outcome))
        XCTAssertFalse(try worker.complete(attempt, hostname: "h", pid: 10, outcome: outcome), "ended once")
        let ended = try XCTUnwrap(store.taskInstance(extract))
        XCTAssertEqual(ended.state, .upForRetry)
        XCTAssertEqual(ended.duration, 4)
        XCTAssertEqual(ended.nextRetryAt, day(3))
        XCTAssertEqual(ended.exitCode, 1)
        XCTAssertEqual(try store.attempts(extract), [TaskAttempt(key: extract, tryNumber: 1, state: .upForRetry, hostname: "h", pid: 10,
                                                                 startedAt: day(1), endedAt: day(1).addingTimeInterval(4), exitCode: 1,
                                                                 note: "exit 1")])
    }

    /// A heartbeat is stamped with the store's clock where it has one (whatever time the caller gave), else with the
    /// caller's: other nodes judge its age by that clock.
    func assertStamped(_ stamp: Date?, localTime: Date, store: any MetadataStore, file: StaticString = #filePath, line: UInt = #line) throws {
        let stamp = try XCTUnwrap(stamp, file: file, line: line)
        if let storeNow = try store.storeTime() {
            XCTAssertEqual(stamp.timeIntervalSince(storeNow), 0, accuracy: 5, "stamped by the store's clock", file: file, line: line)
        } else {
            XCTAssertEqual(stamp, localTime, file: file, line: line)
        }
    }

    /// When the instance moves on under a running worker (another node declared it lost, or it was cleared or
    /// marked), the worker's next heartbeat writes nothing and says what the instance is now, so the worker stops.
    func testAHeartbeatOfAnAttemptTakenAwaySaysSoAndWritesNothing() throws {
        let store = try makeStore()
        let extract = key(try insertRun(store), "extract")
        let worker = try makeAttemptStore()
        let attempt = AttemptKey(dagId: extract.dagId, runId: extract.runId, taskId: extract.taskId, tryNumber: 1)
        try queue(store, extract)
        XCTAssertNotNil(try worker.claim(attempt, pid: 10, hostname: "h", at: day(1).timeIntervalSince1970))
        XCTAssertEqual(try worker.heartbeat(attempt, at: day(1).timeIntervalSince1970 + 5), .ours)
        // Another party marks it failed, as a node's recovery or a user would.
        XCTAssertTrue(try store.updateTaskInstance(extract, expecting: [.running], tryNumber: 1, set: [.state(.failed), .heartbeatAt(day(3))]))
        XCTAssertEqual(try worker.heartbeat(attempt, at: day(1).timeIntervalSince1970 + 10), .takenAway(state: "failed", tryNumber: 1))
        XCTAssertEqual(try store.taskInstance(extract)?.heartbeatAt, day(3), "nothing written over the new state")
        XCTAssertEqual(try store.taskInstance(extract)?.state, .failed)
        let gone = AttemptKey(dagId: extract.dagId, runId: extract.runId, taskId: "no_such_task", tryNumber: 1)
        XCTAssertEqual(try worker.heartbeat(gone, at: day(1).timeIntervalSince1970), .takenAway(state: nil, tryNumber: nil))
    }

    /// A poke whose condition does not hold gives its try back (the scheduler's next queueing takes the same try),
    /// and the attempt keeps the first poke's start, from which the sensor's timeout counts.
    func testASensorPokeGivesItsTryBackAndKeepsItsFirstStart() throws {
        let store = try makeStore()
        let wait = key(try insertRun(store, tasks: ["wait"]), "wait")
        let worker = try makeAttemptStore()
        let attempt = AttemptKey(dagId: wait.dagId, runId: wait.runId, taskId: wait.taskId, tryNumber: 1)
        try queue(store, wait)
        XCTAssertNotNil(try worker.claim(attempt, pid: 10, hostname: "h", at: day(1).timeIntervalSince1970))
        XCTAssertFalse(try worker.reschedule(AttemptKey(dagId: wait.dagId, runId: wait.runId, taskId: wait.taskId, tryNumber: 2),
                                             nextPokeAt: day(2).timeIntervalSince1970, note: "not yet", at: day(1).timeIntervalSince1970))
        XCTAssertTrue(try worker.reschedule(attempt, nextPokeAt: day(2).timeIntervalSince1970, note: "not yet", at: day(1).timeIntervalSince1970))
        var ti = try XCTUnwrap(store.taskInstance(wait))
        XCTAssertEqual(ti.state, .upForRetry)
        XCTAssertEqual(ti.tryNumber, 0, "a poke uses no try")
        XCTAssertEqual(ti.nextRetryAt, day(2))
        XCTAssertEqual(ti.note, "not yet")
        XCTAssertNil(ti.pid)
        XCTAssertNil(ti.taskPid)

        // The next poke: queued at try 1 again, claimed later; the try's start is still the first poke's.
        XCTAssertTrue(try store.updateTaskInstance(wait, expecting: [.upForRetry], tryNumber: 0, set: [.state(.queued), .tryNumber(1)]))
        XCTAssertEqual(try worker.claim(attempt, pid: 11, hostname: "h", at: day(2).timeIntervalSince1970), day(1).timeIntervalSince1970)
        ti = try XCTUnwrap(store.taskInstance(wait))
        XCTAssertEqual(ti.state, .running)
        XCTAssertEqual(ti.tryNumber, 1)
        XCTAssertEqual(try store.attempts(wait).map(\.startedAt), [day(1)])
    }
}
