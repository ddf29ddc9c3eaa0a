import Foundation
import MetadataStore
import PostgresAttemptStore
import WorkerCore
import XCTest

// The attempt channel's writes, as the daemon and a worker's fallback helper answer them (`AttemptStore.answer`).
extension StoreConformanceTests {
    /// A write resent after whoever was asked first died unanswering gets the answer it got if it landed (PostgreSQL,
    /// where a worker resends to its helper), and is refused as before where it did not land or the store never has
    /// writes resent (SQLite: the worker writes it itself).
    func testAWriteResentAfterItLandedGetsTheAnswerItGot() throws {
        let store = try makeStore()
        let extract = key(try insertRun(store), "extract")
        let worker = try makeAttemptStore()
        let resends = worker is PostgresAttemptStore
        XCTAssertTrue(try store.updateTaskInstance(extract, expecting: [.none], tryNumber: 0,
                                                   set: [.state(.queued), .tryNumber(1), .hostname("node-a")]))
        let attempt = AttemptKey(dagId: extract.dagId, runId: extract.runId, taskId: extract.taskId, tryNumber: 1)
        let started = day(1).timeIntervalSince1970
        let claim = AttemptRequest.claim(attempt, pid: 10, hostname: "node-a", at: started)

        // Not landed yet: a resent claim claims.
        XCTAssertEqual(worker.answer(claim, resent: true), .started(started))
        XCTAssertEqual(worker.answer(claim), .started(nil), "sent again, not resent: claimed once")
        XCTAssertEqual(worker.answer(claim, resent: true), resends ? .started(started) : .started(nil))
        // Another worker's claim (another pid) is not ours, resent or not.
        XCTAssertEqual(worker.answer(.claim(attempt, pid: 11, hostname: "node-a", at: started), resent: true), .started(nil))
        XCTAssertEqual(try store.taskInstance(extract)?.pid, 10)

        XCTAssertEqual(worker.answer(.setTaskPid(attempt, taskPid: 12), resent: true), .done)
        XCTAssertEqual(worker.answer(.heartbeat(attempt, at: started + 5), resent: true), .heartbeat(.ours))
        let outcome = AttemptOutcome(state: "success", startedAt: started, endedAt: started + 4, exitCode: 0, signal: nil,
                                     nextRetryAt: nil, note: nil)
        let complete = AttemptRequest.complete(attempt, hostname: "node-a", pid: 10, outcome: outcome)
        XCTAssertEqual(worker.answer(complete), .written(true))
        XCTAssertEqual(worker.answer(complete), .written(false), "ended once")
        XCTAssertEqual(worker.answer(complete, resent: true), .written(resends))
        // A different outcome resent is not the one that landed.
        var other = outcome
        other.endedAt += 1
        XCTAssertEqual(worker.answer(.complete(attempt, hostname: "node-a", pid: 10, outcome: other), resent: true), .written(false))
        XCTAssertEqual(try store.taskInstance(extract)?.state, .success)
        XCTAssertEqual(try store.attempts(extract).map(\.state), [.success])
        XCTAssertEqual(worker.answer(.heartbeat(attempt, at: started + 6)), .heartbeat(.takenAway(state: "success", tryNumber: 1)))
    }
}
