import Foundation
import MetadataStore
import PostgresAttemptStore
import PostgresClient
import PostgresStore
import StoreAddress
import WorkerCore
import XCTest

/// The conformance suite on PostgreSQL: each test gets a schema of its own on the server scripts/test starts
/// (ORCHESTRATOR_TEST_POSTGRES), reached through `search_path` in the store URL, dropped afterwards.
final class PostgresStoreConformanceTests: StoreConformanceTests {
    private var serverURL: String?
    private var schema = ""
    private var storeURL = ""

    override func setUpWithError() throws {
        guard let server = ProcessInfo.processInfo.environment["ORCHESTRATOR_TEST_POSTGRES"], !server.isEmpty else {
            if ProcessInfo.processInfo.environment["ORCHESTRATOR_TEST_STRICT"] == "1" {
                XCTFail("ORCHESTRATOR_TEST_POSTGRES is not set: scripts/test should have started PostgreSQL")
            }
            throw XCTSkip("ORCHESTRATOR_TEST_POSTGRES is not set")
        }
        serverURL = server
        schema = "conformance_\(getpid())_\(UInt32.random(in: 0...UInt32.max))"
        try PostgresConnection(url: server).execute("CREATE SCHEMA \(schema)")
        storeURL = server + (server.contains("?") ? "&" : "?") + "options=-csearch_path%3D\(schema)"
    }

    override func tearDownWithError() throws {
        if let serverURL { try? PostgresConnection(url: serverURL).execute("DROP SCHEMA IF EXISTS \(schema) CASCADE") }
    }

    override func makeStore() throws -> any MetadataStore { try PostgresMetadataStore(url: storeURL) }
    override func openAgain() throws -> any MetadataStore { try PostgresMetadataStore(url: storeURL) }
    override func makeAttemptStore() throws -> any AttemptStore { try PostgresAttemptStore(url: try StoreURL.parse(storeURL)) }

    func testAClaimHoldsItsLimitsWhereTheSessionWouldDefaultToSerializable() throws {
        // The claim is one statement without BEGIN: its counts need READ COMMITTED, which the store's sessions pin
        // whatever the server, the role or the URL (here) ask for; the claim function refuses any other level.
        let serializable = storeURL + "%20-cdefault_transaction_isolation%3Dserializable"
        let store = try PostgresMetadataStore(url: serializable)
        try store.setPool(name: "one", slots: 1)
        let instances = try insertScheduledRun(store, day: 0, tasks: ["a", "b"], pool: "one")
        XCTAssertEqual(try store.claimForDispatch(instances[0], limits: roomy(), at: day(1)), .claimed)
        XCTAssertEqual(try store.claimForDispatch(instances[1], limits: roomy(), at: day(1)), .poolFull)
    }

    func testTheClaimFunctionRefusesToCountAboveReadCommitted() throws {
        _ = try makeStore()
        let db = try PostgresConnection(url: storeURL)
        try db.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
        XCTAssertThrowsError(try db.query("SELECT orchestrator_dispatch_verdict('default_pool', 1, 'etl', 2, 'node-a', 100, 100)")) {
            XCTAssertTrue("\($0)".contains("correctly only at READ COMMITTED, not repeatable read"), "\($0)")
        }
        try db.execute("ROLLBACK")
        XCTAssertEqual(try db.query("SELECT orchestrator_dispatch_verdict('default_pool', 1, 'etl', 2, 'node-a', 100, 100)")
            .first?.string(0), "claimable")
    }

    func testTheStoreNamesItsServer() throws {
        // The test server's URL has no password, so it is shown as given.
        XCTAssertEqual(try makeStore().location, storeURL)
    }

    private func leaseRequest(_ name: String, node: String = "node-a") -> (SchedulerLeaseRequest, String) {
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("lease-\(name)-\(UUID().uuidString)").path
        return (SchedulerLeaseRequest(home: home, lockPath: home + "/scheduler.lock", pidPath: home + "/scheduler.pid", nodeName: node), home)
    }

    func testNodesOfDistinctNamesScheduleSideBySideAndASecondDaemonOfOneNameIsRefused() throws {
        let (a, homeA) = leaseRequest("a", node: "node-a"), (b, homeB) = leaseRequest("b", node: "node-b")
        let (twin, twinHome) = leaseRequest("twin", node: "node-a")
        defer { for home in [homeA, homeB, twinHome] { try? FileManager.default.removeItem(atPath: home) } }
        let leaseA = try makeStore().acquireSchedulerLease(a)
        let leaseB = try openAgain().acquireSchedulerLease(b)
        defer { leaseB.release() }
        // Another home, so the local lock file lets it through: the store's lock of the node refuses it.
        XCTAssertThrowsError(try openAgain().acquireSchedulerLease(twin)) { error in
            XCTAssertEqual((error as? StoreError)?.kind, .leaseHeld, "\(error)")
            XCTAssertEqual("\(error)", "node 'node-a' already has a live scheduler on \(storeURL); give each daemon its own node name (ORCHESTRATOR_NODE_NAME)")
        }
        // The refused attempt left the twin's home lock free, and node-a's lock is free again once released.
        XCTAssertNil(try makeStore().schedulerLeaseHolder(twin))
        leaseA.release()
        try openAgain().acquireSchedulerLease(twin).release()
    }

    func testTheNodeLockDoesNotMeetTheLimitLocksOrTheFormerStoreWideLock() throws {
        let (request, home) = leaseRequest("spaces")
        defer { try? FileManager.default.removeItem(atPath: home) }
        let lease = try makeStore().acquireSchedulerLease(request)
        defer { lease.release() }
        let admin = try PostgresConnection(url: storeURL)
        // The node's lock is a one-key lock (objsubid 1) on the hash of schema and name, computed here independently.
        let expected = try admin.query("SELECT hashtextextended(current_schema() || '/node-a', $1::bigint)", [Int64(0x6f72_6368)]).first?.int(0)
        let held = try admin.query("""
            SELECT objsubid, a.application_name FROM pg_locks l JOIN pg_stat_activity a USING (pid)
            WHERE l.locktype = 'advisory' AND l.granted AND ((l.classid::bigint << 32) | l.objid::bigint) = $1::bigint
            """, [Int64(try XCTUnwrap(expected))])
        XCTAssertEqual(held.count, 1)
        XCTAssertEqual(held.first?.int(0), 1, "a one-key lock")
        XCTAssertEqual(held.first?.string(1), "orchestrator scheduler lease")
        // The node holds the former store-wide lock's key shared: an older daemon's exclusive try fails, another
        // node's shared one does not.
        XCTAssertEqual(try admin.query("SELECT pg_try_advisory_lock(1869767528, hashtext(current_schema()))").first?.bool(0), false)
        XCTAssertEqual(try admin.query("SELECT pg_try_advisory_lock_shared(1869767528, hashtext(current_schema()))").first?.bool(0), true)
    }

    func testAStoreInAnotherSchemaOfTheDatabaseGetsItsOwnScheduler() throws {
        let otherSchema = schema + "_other"
        let server = try XCTUnwrap(serverURL)
        try PostgresConnection(url: server).execute("CREATE SCHEMA \(otherSchema)")
        defer { try? PostgresConnection(url: server).execute("DROP SCHEMA IF EXISTS \(otherSchema) CASCADE") }
        let otherURL = server + (server.contains("?") ? "&" : "?") + "options=-csearch_path%3D\(otherSchema)"
        let (first, firstHome) = leaseRequest("a"), (second, secondHome) = leaseRequest("b")
        defer { for home in [firstHome, secondHome] { try? FileManager.default.removeItem(atPath: home) } }
        let lease = try makeStore().acquireSchedulerLease(first)
        defer { lease.release() }
        let otherLease = try PostgresMetadataStore(url: otherURL).acquireSchedulerLease(second)
        otherLease.release()
        // The same schema from another home still finds the lock taken.
        XCTAssertThrowsError(try openAgain().acquireSchedulerLease(second)) { error in
            XCTAssertEqual((error as? StoreError)?.kind, .leaseHeld, "\(error)")
        }
    }

    /// A daemon of the release before several schedulers takes one exclusive lock per store and assumes it is alone:
    /// a node refuses to start beside it, and while a node runs, that daemon cannot take its lock.
    func testANodeAndADaemonOfTheOlderReleaseRefuseToRunTogether() throws {
        let (request, home) = leaseRequest("legacy")
        defer { try? FileManager.default.removeItem(atPath: home) }
        let legacyLock = "(1869767528, hashtext(current_schema()))"  // "orch", the schema's hash: the older releases' key
        let older = try PostgresConnection(url: storeURL)
        XCTAssertEqual(try older.query("SELECT pg_try_advisory_lock\(legacyLock)").first?.bool(0), true)
        XCTAssertThrowsError(try makeStore().acquireSchedulerLease(request)) { error in
            XCTAssertEqual((error as? StoreError)?.kind, .leaseHeld, "\(error)")
            XCTAssertTrue("\(error)".contains("a daemon of an older release"), "\(error)")
        }
        XCTAssertEqual(try older.query("SELECT pg_advisory_unlock\(legacyLock)").first?.bool(0), true)
        let lease = try makeStore().acquireSchedulerLease(request)
        defer { lease.release() }
        XCTAssertEqual(try older.query("SELECT pg_try_advisory_lock\(legacyLock)").first?.bool(0), false,
                       "an older daemon cannot take its lock while a node runs")
    }

    func testALeaseWhoseConnectionTheServerDroppedIsNoLongerHeld() throws {
        let (request, home) = leaseRequest("dropped")
        defer { try? FileManager.default.removeItem(atPath: home) }
        let lease = try makeStore().acquireSchedulerLease(request)
        defer { lease.release() }
        XCTAssertNoThrow(try lease.checkHeld(now: Date().addingTimeInterval(2)))
        let admin = try PostgresConnection(url: try XCTUnwrap(serverURL))
        let dropped = try admin.query("""
            SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
            WHERE application_name = 'orchestrator scheduler lease' AND pid <> pg_backend_pid()
            """)
        XCTAssertEqual(dropped.first?.int(0), 1)
        // Within the second after a check, the server is not asked again.
        XCTAssertNoThrow(try lease.checkHeld(now: Date().addingTimeInterval(2.5)))
        XCTAssertThrowsError(try lease.checkHeld(now: Date().addingTimeInterval(4))) { error in
            XCTAssertEqual((error as? StoreError)?.kind, .unavailable, "\(error)")
            XCTAssertTrue("\(error)".contains("the lock with it"), "\(error)")
        }
        // The lock is free for the next scheduler.
        lease.release()
        try openAgain().acquireSchedulerLease(request).release()
    }

    /// Ends the sessions of the worker connections (what a server restart or failover does to them).
    private func dropWorkerConnections() throws -> Int? {
        try PostgresConnection(url: try XCTUnwrap(serverURL)).query("""
            SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
            WHERE application_name = 'orchestrator worker' AND pid <> pg_backend_pid()
            """).first?.int(0)
    }

    func testAWorkerWhoseConnectionTheServerDroppedReconnectsAndRecordsItsAttempt() throws {
        let store = try makeStore()
        let extract = key(try insertRun(store), "extract")
        XCTAssertTrue(try store.updateTaskInstance(extract, expecting: [.none], tryNumber: 0, set: [.state(.queued), .tryNumber(1)]))
        let worker = try makeAttemptStore()
        let attempt = AttemptKey(dagId: extract.dagId, runId: extract.runId, taskId: extract.taskId, tryNumber: 1)
        XCTAssertNotNil(try worker.claim(attempt, pid: 10, hostname: "h", at: day(1).timeIntervalSince1970))
        XCTAssertEqual(try dropWorkerConnections(), 1)
        XCTAssertEqual(try worker.heartbeat(attempt, at: day(2).timeIntervalSince1970), .ours)
        try assertStamped(try store.taskInstance(extract)?.heartbeatAt, localTime: day(2), store: store)
        XCTAssertEqual(try dropWorkerConnections(), 1)
        let outcome = AttemptOutcome(state: "success", startedAt: day(1).timeIntervalSince1970, endedAt: day(1).timeIntervalSince1970 + 4,
                                     exitCode: 0, signal: nil, nextRetryAt: nil, note: nil)
        XCTAssertTrue(try worker.complete(attempt, hostname: "h", pid: 10, outcome: outcome), "the success is recorded, not orphaned")
        XCTAssertEqual(try store.taskInstance(extract)?.state, .success)
        XCTAssertEqual(try store.attempts(extract).map(\.state), [.success])
    }
}
