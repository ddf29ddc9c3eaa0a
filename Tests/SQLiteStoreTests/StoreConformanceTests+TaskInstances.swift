import Foundation
import MetadataStore
import XCTest

// Task instances: compare-and-set updates and clearing.
extension StoreConformanceTests {
    func testUpdateTaskInstanceIsCompareAndSet() throws {
        let store = try makeStore()
        let run = try insertRun(store)
        let extract = key(run, "extract")

        // wrong expected state: nothing changes
        XCTAssertFalse(try store.updateTaskInstance(extract, expecting: [.scheduled], tryNumber: nil,
                                                    set: [.state(.queued), .tryNumber(1), .hostname("h")]))
        var ti = try XCTUnwrap(store.taskInstance(extract))
        XCTAssertEqual(ti.state, .none)
        XCTAssertEqual(ti.tryNumber, 0)
        XCTAssertNil(ti.hostname)

        XCTAssertTrue(try store.updateTaskInstance(extract, expecting: [.none], tryNumber: nil, set: [.state(.scheduled)]))
        // right state, wrong attempt: nothing changes
        XCTAssertFalse(try store.updateTaskInstance(extract, expecting: [.scheduled], tryNumber: 3,
                                                    set: [.state(.queued), .tryNumber(4)]))
        ti = try XCTUnwrap(store.taskInstance(extract))
        XCTAssertEqual(ti.state, .scheduled)
        XCTAssertEqual(ti.tryNumber, 0)

        let queuedAt = day(1).addingTimeInterval(5)
        XCTAssertTrue(try store.updateTaskInstance(extract, expecting: [.scheduled], tryNumber: 0, set: [
            .state(.queued), .tryNumber(1), .queuedAt(queuedAt), .hostname("worker-1"), .pid(4242), .note("claimed"),
            .nextRetryAt(day(9)), .duration(1.5),
        ]))
        ti = try XCTUnwrap(store.taskInstance(extract))
        XCTAssertEqual(ti.state, .queued)
        XCTAssertEqual(ti.tryNumber, 1)
        XCTAssertEqual(ti.queuedAt, queuedAt)
        XCTAssertEqual(ti.hostname, "worker-1")
        XCTAssertEqual(ti.pid, 4242)
        XCTAssertEqual(ti.note, "claimed")
        XCTAssertEqual(ti.nextRetryAt, day(9))
        XCTAssertEqual(ti.duration, 1.5)

        // nil payloads write NULL
        XCTAssertTrue(try store.updateTaskInstance(extract, expecting: [.queued], tryNumber: 1,
                                                   set: [.pid(nil), .note(nil), .nextRetryAt(nil)]))
        ti = try XCTUnwrap(store.taskInstance(extract))
        XCTAssertNil(ti.pid)
        XCTAssertNil(ti.note)
        XCTAssertNil(ti.nextRetryAt)
        XCTAssertEqual(ti.state, .queued)

        // an update with no fields does nothing
        XCTAssertFalse(try store.updateTaskInstance(extract, expecting: [.queued], tryNumber: nil, set: []))
        // the other instance of the run was never touched
        XCTAssertEqual(try state(store, key(run, "load")), TaskState.none)
        XCTAssertEqual(try store.taskInstances(states: [.queued]).map(\.key), [extract])
    }

    func testClearTaskInstancesResetsFinishedOnesAndRequeuesTheRun() throws {
        let store = try makeStore()
        // Failed while some tasks are still active (made so directly: the store would not finish such a run).
        let run = try insertRun(store, state: .failed, tasks: ["done", "broken", "busy", "waiting", "untouched"])
        XCTAssertTrue(try store.updateTaskInstance(key(run, "done"), expecting: [.none], tryNumber: nil, set: [
            .state(.success), .tryNumber(1), .exitCode(0), .endedAt(day(1)), .duration(2), .note("ok"), .pid(7), .hostname("h"),
        ]))
        XCTAssertTrue(try store.updateTaskInstance(key(run, "broken"), expecting: [.none], tryNumber: nil, set: [
            .state(.failed), .tryNumber(2), .exitCode(1), .endedAt(day(1)),
        ]))
        XCTAssertTrue(try store.updateTaskInstance(key(run, "busy"), expecting: [.none], tryNumber: nil,
                                                   set: [.state(.running), .tryNumber(1), .pid(99)]))
        XCTAssertTrue(try store.updateTaskInstance(key(run, "waiting"), expecting: [.none], tryNumber: nil,
                                                   set: [.state(.queued), .tryNumber(1)]))
        try store.recordAttempt(TaskAttempt(key: key(run, "broken"), tryNumber: 1, state: .upForRetry))
        try store.recordAttempt(TaskAttempt(key: key(run, "broken"), tryNumber: 2, state: .failed))

        let cleared = try store.clearTaskInstances(dagId: "etl", runId: run.runId, taskIds: ["done", "broken", "busy", "waiting"],
                                                   extraTries: ["broken": 3], at: day(3))
        XCTAssertEqual(cleared, 2)

        let done = try XCTUnwrap(store.taskInstance(key(run, "done")))
        XCTAssertEqual(done.state, TaskState.none)
        XCTAssertEqual(done.tryNumber, 1, "the attempt count is history and stays")
        XCTAssertEqual(done.maxTries, 2, "one more try by default")
        XCTAssertNil(done.exitCode)
        XCTAssertNil(done.endedAt)
        XCTAssertNil(done.duration)
        XCTAssertNil(done.note)
        XCTAssertNil(done.pid)

        let broken = try XCTUnwrap(store.taskInstance(key(run, "broken")))
        XCTAssertEqual(broken.state, TaskState.none)
        XCTAssertEqual(broken.tryNumber, 2)
        XCTAssertEqual(broken.maxTries, 5, "try_number + extraTries")
        XCTAssertEqual(try store.attempts(key(run, "broken")).map(\.tryNumber), [1, 2], "attempt history stays")

        let busy = try XCTUnwrap(store.taskInstance(key(run, "busy")))
        XCTAssertEqual(busy.state, .running)
        XCTAssertEqual(busy.pid, 99)
        XCTAssertEqual(try state(store, key(run, "waiting")), .queued)
        XCTAssertEqual(try state(store, key(run, "untouched")), TaskState.none)

        let requeued = try XCTUnwrap(store.run(dagId: "etl", runId: run.runId))
        XCTAssertEqual(requeued.state, .queued)
        XCTAssertNil(requeued.endedAt)
    }

    func testClearingAWaitingSensorForgetsItsFirstPoke() throws {
        let store = try makeStore()
        let run = try insertRun(store, state: .running, tasks: ["wait", "done"])
        // A sensor between pokes: its try went back to 0 and its attempt 1 (started at the first poke) never ended.
        XCTAssertTrue(try store.updateTaskInstance(key(run, "wait"), expecting: [.none], tryNumber: nil, set: [.state(.upForRetry), .tryNumber(0)]))
        try store.recordAttempt(TaskAttempt(key: key(run, "wait"), tryNumber: 1, state: .running, startedAt: day(1)))
        // A finished task's attempts are history and stay.
        XCTAssertTrue(try store.updateTaskInstance(key(run, "done"), expecting: [.none], tryNumber: nil, set: [.state(.failed), .tryNumber(1)]))
        try store.recordAttempt(TaskAttempt(key: key(run, "done"), tryNumber: 1, state: .failed, startedAt: day(1), endedAt: day(1)))

        XCTAssertEqual(try store.clearTaskInstances(dagId: "etl", runId: run.runId, taskIds: ["wait", "done"], extraTries: [:], at: day(2)), 2)
        XCTAssertEqual(try store.attempts(key(run, "wait")), [], "the next poke starts the timeout afresh")
        XCTAssertEqual(try store.attempts(key(run, "done")).count, 1)
    }

    func testClearRequeuesAFinishedRunOnlyWhenSomethingWasCleared() throws {
        let store = try makeStore()
        let run = try insertRun(store, state: .failed, tasks: ["a", "b"])
        XCTAssertTrue(try store.updateTaskInstance(key(run, "a"), expecting: [.none], tryNumber: nil, set: [.state(.failed), .tryNumber(1)]))
        XCTAssertTrue(try store.updateTaskInstance(key(run, "b"), expecting: [.none], tryNumber: nil, set: [.state(.running), .tryNumber(1)]))

        XCTAssertEqual(try store.clearTaskInstances(dagId: "etl", runId: run.runId, taskIds: ["b"], extraTries: [:], at: day(3)), 0)
        XCTAssertEqual(try store.run(dagId: "etl", runId: run.runId)?.state, .failed)

        // The caller may have read the run while it was still running: the store decides, in the same transaction.
        XCTAssertEqual(try store.clearTaskInstances(dagId: "etl", runId: run.runId, taskIds: ["a"], extraTries: [:], at: day(3)), 1)
        XCTAssertEqual(try store.run(dagId: "etl", runId: run.runId)?.state, .queued)
        XCTAssertEqual(try state(store, key(run, "a")), TaskState.none)
    }
}
