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
        let due = try store.dueNotifications(now: t0, limit: 10)
        XCTAssertEqual(due.map(\.target), ["https://a", "https://b"])
        try store.recordNotificationAttempt(id: due[0].id, delivered: false, error: "HTTP 500", nextAttemptAt: t0.addingTimeInterval(2), at: t0)
        try store.recordNotificationAttempt(id: due[1].id, delivered: true, error: nil, nextAttemptAt: nil, at: t0)
        XCTAssertEqual(try store.dueNotifications(now: t0.addingTimeInterval(1), limit: 10).count, 0, "the retry is not due yet")
        let retry = try store.dueNotifications(now: t0.addingTimeInterval(2), limit: 10)
        XCTAssertEqual(retry.map(\.attempts), [1])
        XCTAssertEqual(retry.first?.lastError, "HTTP 500")
        XCTAssertEqual(try store.nextNotificationAttempt(), t0.addingTimeInterval(2))
        try store.recordNotificationAttempt(id: retry[0].id, delivered: false, error: "HTTP 500", nextAttemptAt: nil, at: t0)
        let counts = try store.notificationCounts()
        XCTAssertEqual([counts.pending, counts.delivered, counts.failed], [0, 1, 1])
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
