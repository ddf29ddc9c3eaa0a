import Foundation
import MetadataStore
import XCTest

/// The task-instance transitions as values: no store, no clock but the one given.
final class TaskInstanceTransitionTests: XCTestCase {
    private let now = Date(timeIntervalSince1970: 1_704_067_200)
    private let key = TaskKey(dagId: "etl", runId: "r", taskId: "load")

    private func instance(_ state: TaskState, try tryNumber: Int, maxTries: Int = 3, startedAt: Date? = nil) -> TaskInstance {
        var ti = TaskInstance(key: key, state: state, tryNumber: tryNumber, maxTries: maxTries, pool: "default_pool", priorityWeight: 1)
        ti.startedAt = startedAt
        ti.hostname = "node-a"
        ti.pid = 41
        return ti
    }

    func testAPlannerDecisionRecordsWhenAndWhyOnlyForAFinishedState() {
        XCTAssertEqual(TaskInstanceTransition.decided(from: .none, to: .scheduled, note: nil, tryNumber: 0, at: now),
                       TaskInstanceTransition(expecting: [.none], tryNumber: 0, fields: [.state(.scheduled)]))
        XCTAssertEqual(TaskInstanceTransition.decided(from: .none, to: .upstreamFailed, note: "extract failed", tryNumber: 0, at: now).fields,
                       [.state(.upstreamFailed), .endedAt(now), .note("extract failed")])
    }

    func testAClaimTakesTheNextTryAndForgetsThePreviousOne() {
        let claim = TaskInstanceTransition.claimed(instance(.scheduled, try: 1), hostname: "node-b", at: now)
        XCTAssertEqual(claim.expecting, [.scheduled])
        XCTAssertEqual(claim.tryNumber, 1, "guarded by the try it read")
        XCTAssertEqual(claim.fields, [.state(.queued), .tryNumber(2), .queuedAt(now), .hostname("node-b"), .pid(nil), .taskPid(nil),
                                      .exitCode(nil), .signal(nil), .note(nil), .nextRetryAt(nil), .startedAt(nil), .endedAt(nil),
                                      .duration(nil), .heartbeatAt(nil)])
    }

    func testAWorkerThatNeverStartedGivesItsTryBack() {
        let back = TaskInstanceTransition.neverStarted(instance(.queued, try: 2))
        XCTAssertEqual(back, TaskInstanceTransition(expecting: [.queued], tryNumber: 2,
                                                    fields: [.state(.scheduled), .tryNumber(1), .pid(nil), .queuedAt(nil)]))
        XCTAssertEqual(TaskInstanceTransition.neverStarted(instance(.queued, try: 0)).fields[1], .tryNumber(0), "never below zero")
    }

    func testAFailedSpawnEndsTheQueuedTry() {
        XCTAssertEqual(TaskInstanceTransition.spawnFailed(tryNumber: 2, note: "no such file", at: now),
                       TaskInstanceTransition(expecting: [.queued], tryNumber: 2, fields: [.state(.failed), .endedAt(now), .note("no such file")]))
        XCTAssertEqual(TaskInstanceTransition.cannotRun(note: "pool 'x' is not defined", at: now).expecting, [.scheduled])
        XCTAssertEqual(TaskInstanceTransition.cannotRun(note: "pool 'x' is not defined", tryNumber: 2, at: now).tryNumber, 2)
    }

    func testAnOrphanRetriesWhileTriesRemainAndRecordsItsAttempt() throws {
        let started = now.addingTimeInterval(-30)
        let orphan = try XCTUnwrap(TaskInstanceTransition.orphaned(instance(.running, try: 2, startedAt: started), note: "node lost",
                                                                   retryDelay: 60, at: now))
        XCTAssertEqual(orphan.expecting, [.running])
        XCTAssertEqual(orphan.tryNumber, 2)
        XCTAssertEqual(orphan.fields, [.state(.upForRetry), .endedAt(now), .nextRetryAt(now.addingTimeInterval(60)), .note("node lost"),
                                       .duration(30)])
        XCTAssertEqual(orphan.attempt, TaskAttempt(key: key, tryNumber: 2, state: .upForRetry, hostname: "node-a", pid: 41,
                                                   startedAt: started, endedAt: now, note: "node lost"))

        let last = try XCTUnwrap(TaskInstanceTransition.orphaned(instance(.queued, try: 3), note: "gone", retryDelay: 60, at: now))
        XCTAssertEqual(last.expecting, [.queued])
        XCTAssertEqual(last.fields.first, .state(.failed), "no tries left")
        XCTAssertEqual(last.fields[2], .nextRetryAt(nil))
        XCTAssertEqual(last.fields[4], .duration(nil), "a queued try never started")

        let removedTask = try XCTUnwrap(TaskInstanceTransition.orphaned(instance(.running, try: 1), note: "gone", retryDelay: nil, at: now))
        XCTAssertEqual(removedTask.fields.first, .state(.failed), "a task gone from its DAG does not retry")
        XCTAssertNil(TaskInstanceTransition.orphaned(instance(.success, try: 1), note: "gone", retryDelay: 60, at: now))
    }

    func testAnEndedAttemptRecordsItsOutcome() {
        let ended = TaskInstanceTransition.attemptEnded(instance(.running, try: 1, startedAt: now.addingTimeInterval(-4)), state: .failed,
                                                        exitCode: 1, signal: nil, nextRetryAt: nil, note: "exit 1", at: now)
        XCTAssertEqual(ended.expecting, [.running])
        XCTAssertEqual(ended.tryNumber, 1)
        XCTAssertEqual(ended.fields, [.state(.failed), .endedAt(now), .duration(4), .exitCode(1), .signal(nil), .nextRetryAt(nil),
                                      .note("exit 1"), .heartbeatAt(now)])
    }

    func testAPokeGivesItsTryBack() {
        let poke = TaskInstanceTransition.poked(instance(.running, try: 1), nextPokeAt: now.addingTimeInterval(30), note: "not yet", at: now)
        XCTAssertEqual(poke.expecting, [.running])
        XCTAssertEqual(poke.tryNumber, 1)
        XCTAssertEqual(poke.fields, [.state(.upForRetry), .tryNumber(0), .nextRetryAt(now.addingTimeInterval(30)), .note("not yet"),
                                     .heartbeatAt(now), .pid(nil), .taskPid(nil)])
    }

    func testClearingLeavesActiveInstancesAloneAndForgetsAWaitingSensorsOpenAttempt() throws {
        XCTAssertNil(TaskInstanceTransition.cleared(instance(.queued, try: 1), extraTries: 1))
        XCTAssertNil(TaskInstanceTransition.cleared(instance(.running, try: 1), extraTries: 1))
        let cleared = try XCTUnwrap(TaskInstanceTransition.cleared(instance(.failed, try: 2), extraTries: 3))
        XCTAssertEqual(cleared.expecting, [.failed])
        XCTAssertEqual(cleared.tryNumber, 2)
        XCTAssertEqual(cleared.fields.prefix(2), [.state(.none), .maxTries(5)])
        XCTAssertTrue(cleared.fields.contains(.note(nil)) && cleared.fields.contains(.endedAt(nil)) && cleared.fields.contains(.pid(nil)))
        XCTAssertFalse(cleared.fields.contains { if case .tryNumber = $0 { return true } else { return false } }, "the try count is history")
        // A sensor between pokes sits at try 0 with attempt 1 open.
        XCTAssertEqual(TaskInstanceTransition.cleared(instance(.upForRetry, try: 0), extraTries: 1)?.discardsOpenAttempt, 1)
    }

    func testUnfinishedStatesAreTheOnesThatKeepARunGoing() {
        XCTAssertEqual(Set(TaskState.unfinished), [.none, .scheduled, .queued, .running, .upForRetry])
    }
}
