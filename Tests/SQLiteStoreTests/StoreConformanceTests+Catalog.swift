import Foundation
import MetadataStore
import XCTest

// DAGs, pools, backfills, the notification outbox and SLA misses.
extension StoreConformanceTests {
    func testPools() throws {
        let store = try makeStore()
        XCTAssertEqual(try store.pools(), ["default_pool": 128])
        try store.setPool(name: "db", slots: 2)
        try store.setPool(name: "default_pool", slots: 8)
        XCTAssertEqual(try store.pools(), ["default_pool": 8, "db": 2])
        try store.setPool(name: "db", slots: 5)
        XCTAssertEqual(try store.pools()["db"], 5)
        XCTAssertTrue(try store.deletePool(name: "db"))
        XCTAssertFalse(try store.deletePool(name: "db"))
        XCTAssertEqual(try store.pools(), ["default_pool": 8])
    }

    func testBackfillCreateAndAssignRuns() throws {
        let store = try makeStore()
        let id = try store.createBackfill(dagId: "etl", start: day(0), end: day(4), maxActiveRuns: 3, at: day(10))
        XCTAssertEqual(try store.backfill(id: id),
                       Backfill(id: id, dagId: "etl", start: day(0), end: day(4), maxActiveRuns: 3, createdAt: day(10)))
        XCTAssertNil(try store.backfill(id: id + 100))
        let second = try store.createBackfill(dagId: "etl", start: day(5), end: day(6), maxActiveRuns: 1, at: day(10))
        XCTAssertNotEqual(second, id)

        let r0 = try insertRun(store, day: 0)
        let r1 = try insertRun(store, day: 1)
        let r2 = try insertRun(store, day: 2)
        XCTAssertEqual(try store.runs(RunFilter(backfillId: id)), [])
        try store.assignRuns(dagId: "etl", runIds: [r0.runId, r2.runId], toBackfill: id)
        XCTAssertEqual(try store.runs(RunFilter(backfillId: id)).map(\.runId), [r0.runId, r2.runId])
        XCTAssertEqual(try store.run(dagId: "etl", runId: r0.runId)?.backfillId, id)
        XCTAssertNil(try store.run(dagId: "etl", runId: r1.runId)?.backfillId)

        // a run created for the backfill carries its id
        var (run, instances) = makeRun(day: 3, type: .backfill)
        run.backfillId = second
        XCTAssertTrue(try store.createRun(run, taskInstances: instances))
        XCTAssertEqual(try store.runs(RunFilter(backfillId: second)).map(\.runType), [.backfill])
    }

    func testSyncDagsKeepsPausedStateAndRecordsImportErrors() throws {
        let store = try makeStore()
        try store.syncDags([("a", "/dags/a.yaml"), ("b", "/dags/b.yaml")], importErrors: ["/dags/bad.yaml": "line 3: oops"], at: t0)
        XCTAssertEqual(try store.dags(), [
            DagRecord(dagId: "a", isPaused: false, fileLocation: "/dags/a.yaml"),
            DagRecord(dagId: "b", isPaused: false, fileLocation: "/dags/b.yaml"),
        ])
        XCTAssertEqual(try store.importErrors(), ["/dags/bad.yaml": "line 3: oops"])

        XCTAssertTrue(try store.setPaused(dagId: "a", paused: true))
        XCTAssertFalse(try store.setPaused(dagId: "nope", paused: true))

        // a moved file, b gone from the folder, bad.yaml fixed, another file broken
        try store.syncDags([("a", "/dags/moved/a.yaml")], importErrors: ["/dags/worse.yaml": "not valid YAML"], at: t0)
        XCTAssertEqual(try store.dags(), [DagRecord(dagId: "a", isPaused: true, fileLocation: "/dags/moved/a.yaml")])
        XCTAssertEqual(try store.importErrors(), ["/dags/worse.yaml": "not valid YAML"])

        // b comes back with its old state, a stays paused
        XCTAssertTrue(try store.setPaused(dagId: "b", paused: true))
        try store.syncDags([("a", "/dags/a.yaml"), ("b", "/dags/b.yaml")], importErrors: [:], at: t0)
        XCTAssertEqual(try store.dags().map(\.isPaused), [true, true])
        XCTAssertEqual(try store.importErrors(), [:])

        XCTAssertTrue(try store.setPaused(dagId: "a", paused: false))
        try store.syncDags([("a", "/dags/a.yaml"), ("b", "/dags/b.yaml")], importErrors: [:], at: t0)
        XCTAssertEqual(try store.dags().map(\.isPaused), [false, true])

        // the state survives reopening the store
        let reopened = try openAgain()
        XCTAssertEqual(try reopened.dags().map(\.isPaused), [false, true])
    }

    func testRegisterDagAddsOneDagWithoutTouchingOthers() throws {
        let store = try makeStore()
        try store.syncDags([("a", "/dags/a.yaml")], importErrors: [:], at: t0)
        XCTAssertTrue(try store.setPaused(dagId: "a", paused: true))
        try store.registerDag(dagId: "c", fileLocation: "/dags/c.yaml", at: t0)
        try store.registerDag(dagId: "a", fileLocation: "/dags/a2.yaml", at: t0)
        XCTAssertEqual(try store.dags(), [
            DagRecord(dagId: "a", isPaused: true, fileLocation: "/dags/a2.yaml"),
            DagRecord(dagId: "c", isPaused: false, fileLocation: "/dags/c.yaml"),
        ])
    }

    func testNotificationOutboxQueuesEachEventOnceAndRecordsAttempts() throws {
        let store = try makeStore()
        XCTAssertTrue(try store.enqueueNotification(eventKey: "run_failed/etl/r1", target: "https://a", payload: "{}", at: t0))
        XCTAssertFalse(try store.enqueueNotification(eventKey: "run_failed/etl/r1", target: "https://a", payload: "{}", at: t0), "once per event and target")
        XCTAssertTrue(try store.enqueueNotification(eventKey: "run_failed/etl/r1", target: "https://b", payload: "{}", at: t0))
        let lease = t0.addingTimeInterval(60)
        let due = try store.claimDueNotifications(now: t0, leaseUntil: lease, limit: 10)
        XCTAssertEqual(due.map(\.target), ["https://a", "https://b"])
        XCTAssertEqual(due.map(\.attempts), [1, 1], "the claimed attempt counts")
        XCTAssertTrue(try store.recordNotificationAttempt(id: due[0].id, attempt: 1, delivered: false, error: "HTTP 500",
                                                          nextAttemptAt: t0.addingTimeInterval(2), at: t0))
        XCTAssertTrue(try store.recordNotificationAttempt(id: due[1].id, attempt: 1, delivered: true, error: nil, nextAttemptAt: nil, at: t0))
        XCTAssertEqual(try store.claimDueNotifications(now: t0.addingTimeInterval(1), leaseUntil: lease, limit: 10).count, 0,
                       "the retry is not due yet")
        let retry = try store.claimDueNotifications(now: t0.addingTimeInterval(2), leaseUntil: lease, limit: 10)
        XCTAssertEqual(retry.map(\.attempts), [2])
        XCTAssertEqual(retry.first?.lastError, "HTTP 500")
        XCTAssertEqual(try store.nextNotificationAttempt(), lease, "a claimed message is due again when its lease ends")
        XCTAssertTrue(try store.recordNotificationAttempt(id: retry[0].id, attempt: 2, delivered: false, error: "HTTP 500",
                                                          nextAttemptAt: nil, at: t0))
        XCTAssertEqual(try store.nextNotificationAttempt(), nil)
        let counts = try store.notificationCounts()
        XCTAssertEqual([counts.pending, counts.delivered, counts.failed], [0, 1, 1])
    }

    /// A sender that dies mid-send leaves its claim: the message is due again once the lease ends (at least once
    /// across a crash), and the late sender's record, if it comes back, changes nothing.
    func testAClaimedNotificationIsLeasedAndClaimedAgainOnlyAfterItsLease() throws {
        let store = try makeStore(), other = try openAgain()
        XCTAssertTrue(try store.enqueueNotification(eventKey: "run_failed/etl/r1", target: "https://a", payload: "{}", at: t0))
        let first = try store.claimDueNotifications(now: t0, leaseUntil: t0.addingTimeInterval(40), limit: 10)
        XCTAssertEqual(first.map(\.attempts), [1])
        XCTAssertEqual(try other.claimDueNotifications(now: t0.addingTimeInterval(39), leaseUntil: t0.addingTimeInterval(79), limit: 10), [],
                       "leased to the first sender")
        let again = try other.claimDueNotifications(now: t0.addingTimeInterval(40), leaseUntil: t0.addingTimeInterval(80), limit: 10)
        XCTAssertEqual(again.map(\.id), first.map(\.id))
        XCTAssertEqual(again.map(\.attempts), [2])
        XCTAssertFalse(try store.recordNotificationAttempt(id: first[0].id, attempt: 1, delivered: true, error: nil, nextAttemptAt: nil,
                                                           at: t0.addingTimeInterval(41)), "the lapsed claim records nothing")
        XCTAssertTrue(try other.recordNotificationAttempt(id: again[0].id, attempt: 2, delivered: true, error: nil, nextAttemptAt: nil,
                                                          at: t0.addingTimeInterval(42)))
        XCTAssertFalse(try other.recordNotificationAttempt(id: again[0].id, attempt: 2, delivered: true, error: nil, nextAttemptAt: nil,
                                                           at: t0.addingTimeInterval(43)), "an outcome is recorded once")
        let counts = try store.notificationCounts()
        XCTAssertEqual([counts.pending, counts.delivered, counts.failed], [0, 1, 0])
    }

    /// Four connections (four nodes' senders) racing to claim the same six due messages, 20 times: each message is
    /// claimed by exactly one of them.
    func testNotificationClaimsRacingFromSeveralConnectionsClaimEachMessageOnce() throws {
        let store = try makeStore()
        let rounds = 20, perRound = 6
        // Round r's messages are due at t0 + r; earlier rounds' are leased far ahead by then.
        for round in 0..<rounds {
            for n in 0..<perRound {
                XCTAssertTrue(try store.enqueueNotification(eventKey: "event/\(round)/\(n)", target: "https://a", payload: "{}",
                                                            at: t0.addingTimeInterval(Double(round))))
            }
        }
        let senders = try (0..<4).map { _ in try openAgain() }
        let claimed = ClaimedIds(), start = t0
        let wins = race(rounds: rounds, claimers: senders.count) { round, s in
            let now = start.addingTimeInterval(Double(round) + 0.5)
            var won = 0
            while true {
                let batch = try senders[s].claimDueNotifications(now: now, leaseUntil: now.addingTimeInterval(3600), limit: 2)
                if batch.isEmpty { return won }
                claimed.add(batch.map(\.eventKey))
                won += batch.count
            }
        }
        XCTAssertEqual(wins, Array(repeating: perRound, count: rounds), "every message claimed in each round")
        XCTAssertEqual(claimed.duplicates, [], "no message claimed twice")
        XCTAssertEqual(claimed.count, rounds * perRound)
    }

    func testEachSlaMissIsRecordedOnce() throws {
        let store = try makeStore()
        XCTAssertTrue(try store.recordSlaMiss(dagId: "etl", runId: "r1", taskId: nil, deadline: day(1), at: day(2)))
        XCTAssertFalse(try store.recordSlaMiss(dagId: "etl", runId: "r1", taskId: nil, deadline: day(1), at: day(3)), "once per run")
        XCTAssertTrue(try store.recordSlaMiss(dagId: "etl", runId: "r1", taskId: "load", deadline: day(1), at: day(3)))
        XCTAssertTrue(try store.recordSlaMiss(dagId: "other", runId: "r1", taskId: nil, deadline: day(1), at: day(4)))
        XCTAssertEqual(try store.slaMisses(dagId: "etl"), [
            SlaMiss(dagId: "etl", runId: "r1", taskId: nil, deadline: day(1), detectedAt: day(2)),
            SlaMiss(dagId: "etl", runId: "r1", taskId: "load", deadline: day(1), detectedAt: day(3)),
        ])
        XCTAssertEqual(try store.slaMisses(dagId: nil).count, 3)
    }

    /// Four connections (four nodes' schedulers) recording the same misses at once, 20 times: each is recorded by
    /// exactly one, and only that one queues its notification (`Scheduler.recordSlaMiss`).
    func testSlaMissesRacingFromSeveralConnectionsAreRecordedOnce() throws {
        let store = try makeStore()
        let rounds = 20
        let schedulers = try (0..<4).map { _ in try openAgain() }
        let deadline = day(1), detected = day(2)
        let wins = race(rounds: rounds, claimers: schedulers.count) { round, s in
            var won = 0
            for task in s % 2 == 0 ? [nil, "load"] : ["load", nil] as [String?]
            where try schedulers[s].recordSlaMiss(dagId: "etl", runId: "r\(round)", taskId: task, deadline: deadline, at: detected) {
                won += 1
            }
            return won
        }
        XCTAssertEqual(wins, Array(repeating: 2, count: rounds), "the run's miss and the task's, once each")
        XCTAssertEqual(try store.slaMisses(dagId: "etl").count, 2 * rounds)
    }

    // MARK: The scheduler lease

    func testOneSchedulerHoldsTheLeaseAtATime() throws {
        let store = try makeStore()
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("lease-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: home) }
        let request = SchedulerLeaseRequest(home: home, lockPath: home + "/scheduler.lock", pidPath: home + "/scheduler.pid")
        XCTAssertNil(store.schedulerLeaseHolder(request))

        let lease = try store.acquireSchedulerLease(request)
        XCTAssertEqual(store.schedulerLeaseHolder(request), getpid())
        let other = try openAgain()
        XCTAssertThrowsError(try other.acquireSchedulerLease(request)) { error in
            XCTAssertEqual((error as? StoreError)?.kind, .leaseHeld, "\(error)")
            XCTAssertTrue("\(error)".contains("another scheduler (pid \(getpid()))"), "\(error)")
        }
        lease.release()
        lease.release()
        XCTAssertNil(store.schedulerLeaseHolder(request))
        let next = try other.acquireSchedulerLease(request)
        XCTAssertEqual(other.schedulerLeaseHolder(request), getpid())
        next.release()
    }
}
