import Foundation
import MetadataStore
import PostgresClient
import PostgresStore
@testable import Scheduler
import SQLiteStore
import WorkerCore
import XCTest

/// Recovery judges another node's heartbeat ages by the store's clock (PostgreSQL stamps the heartbeats with it):
/// a skewed judge neither takes a live node for lost nor keeps a dead one alive. And it forgets long-silent nodes.
final class NodeRecoveryClockTests: XCTestCase {
    private var cleanup: [() -> Void] = []
    private var server = ""

    override func tearDown() { cleanup.forEach { $0() } }

    /// A PostgreSQL store in a fresh schema on the test server.
    private func postgresStore() throws -> (PostgresMetadataStore, PostgresConnection) {
        guard let server = ProcessInfo.processInfo.environment["ORCHESTRATOR_TEST_POSTGRES"], !server.isEmpty else {
            if ProcessInfo.processInfo.environment["ORCHESTRATOR_TEST_STRICT"] == "1" {
                XCTFail("ORCHESTRATOR_TEST_POSTGRES is not set: scripts/test should have started PostgreSQL")
            }
            throw XCTSkip("ORCHESTRATOR_TEST_POSTGRES is not set")
        }
        let schema = "recovery_\(getpid())_\(UInt32.random(in: 0...UInt32.max))"
        try PostgresConnection(url: server).execute("CREATE SCHEMA \(schema)")
        cleanup.append { try? PostgresConnection(url: server).execute("DROP SCHEMA IF EXISTS \(schema) CASCADE") }
        let url = server + (server.contains("?") ? "&" : "?") + "options=-csearch_path%3D\(schema)"
        return (try PostgresMetadataStore(url: url), try PostgresConnection(url: url))
    }

    /// node-b's scheduler, with an empty DAG folder (an orphan's retry delay is then none).
    private func scheduler(_ store: any MetadataStore) throws -> Scheduler {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("recovery-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("dags"), withIntermediateDirectories: true)
        cleanup.append { try? FileManager.default.removeItem(at: folder) }
        var settings = SchedulerSettings(home: HomeLayout(home: folder.path), dagsFolder: folder.appendingPathComponent("dags").path,
                                         workerPath: "/bin/false", orchestratorPath: "/bin/false")
        settings.nodeName = "node-b"
        settings.nodeTimeout = 10
        return Scheduler(store: store, settings: settings, log: SchedulerLog(minimumLevel: .error))
    }

    /// A running attempt of node-a, as its scheduler and worker leave it (the node's clock gave its start).
    private func runningAttempt(_ store: any MetadataStore, startedAt: Date) throws -> TaskKey {
        let logical = Date(timeIntervalSince1970: 1_704_067_200)
        let runId = DagRun.makeRunId(type: .manual, logicalDate: logical)
        let run = DagRun(dagId: "etl", runId: runId, logicalDate: logical, dataIntervalStart: logical, dataIntervalEnd: logical,
                         runType: .manual, state: .running, createdAt: logical)
        let key = TaskKey(dagId: "etl", runId: runId, taskId: "work")
        XCTAssertTrue(try store.createRun(run, taskInstances: [TaskInstance(key: key, maxTries: 2, pool: "default_pool", priorityWeight: 1)]))
        XCTAssertTrue(try store.updateTaskInstance(key, expecting: [.none], tryNumber: 0, set: [
            .state(.running), .tryNumber(1), .hostname("node-a"), .pid(4_000_000), .startedAt(startedAt), .heartbeatAt(startedAt)]))
        return key
    }

    /// A worker of node-b that lost its claim to node-a's worker (the same try queued twice after node-b was taken for
    /// lost) exits non-zero: node-b must leave node-a's running attempt, and its task group, alone.
    func testAWorkerOfOursThatLostItsClaimLeavesTheWinnersAttemptAlone() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lost-claim-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        cleanup.append { try? FileManager.default.removeItem(at: folder) }
        let store = try SQLiteMetadataStore(path: folder.appendingPathComponent("store.db").path)
        let key = try runningAttempt(store, startedAt: Date())
        let judge = try scheduler(store)
        judge.children[4_000_001] = (key, 1)
        try judge.handleChildExit(pid: 4_000_001, status: .exited(3), now: Date())
        let instance = try XCTUnwrap(store.taskInstance(key))
        XCTAssertEqual(instance.state, .running, "node-a's attempt goes on")
        XCTAssertEqual(instance.pid, 4_000_000)
        XCTAssertEqual(try store.attempts(key).filter { $0.state != .running }.count, 0, "nothing recorded over it")
    }

    func testASkewedJudgeNeitherTakesALiveNodeForLostNorKeepsADeadOneAlive() throws {
        let (store, sql) = try postgresStore()
        let hour: TimeInterval = 3600
        // node-a's clock is an hour behind; its heartbeats (the daemon's and the worker's) are stamped by the server.
        let skewed = Date().addingTimeInterval(-hour)
        try store.registerNode(NodeRecord(name: "node-a", startedAt: skewed, lastHeartbeat: skewed, version: "1", pid: 1))
        _ = try store.heartbeatNode(name: "node-a", at: skewed)
        let key = try runningAttempt(store, startedAt: skewed)
        try sql.execute("UPDATE task_instances SET heartbeat_at = extract(epoch from clock_timestamp())")

        // node-b's clock is an hour ahead: by it node-a's heartbeat would be two hours old.
        let judge = try scheduler(store)
        try judge.recoverOrphans(now: Date().addingTimeInterval(hour))
        XCTAssertEqual(try store.taskInstance(key)?.state, .running, "a live node is not lost")

        // node-a goes silent: its last heartbeats are a minute old by the server's clock. A judge an hour behind
        // would see them an hour in the future; by the store's clock node-a is lost.
        try sql.execute("UPDATE nodes SET last_heartbeat = last_heartbeat - 60")
        try sql.execute("UPDATE task_instances SET heartbeat_at = heartbeat_at - 60")
        try judge.recoverOrphans(now: Date().addingTimeInterval(-hour))
        let lost = try XCTUnwrap(store.taskInstance(key))
        // Failed, not up for retry: the judge does not know the DAG, so it knows no retry policy.
        XCTAssertEqual(lost.state, .failed, "a dead node is not kept alive")
        XCTAssertTrue(lost.note?.hasPrefix("node lost: node-a") ?? false, lost.note ?? "no note")
    }

    func testRecoveryForgetsNodesSilentForMoreThanAWeek() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("prune-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        cleanup.append { try? FileManager.default.removeItem(at: folder) }
        let store = try SQLiteMetadataStore(path: folder.appendingPathComponent("store.sqlite").path)
        let now = Date()
        for (name, silent) in [("gone", 8 * 86_400.0), ("quiet", 6 * 86_400.0), ("alive", 0)] {
            let last = now.addingTimeInterval(-silent)
            try store.registerNode(NodeRecord(name: name, startedAt: last, lastHeartbeat: last, version: "1", pid: 1))
        }
        try scheduler(store).recoverOrphans(now: now)
        XCTAssertEqual(try store.nodes().map(\.name), ["alive", "quiet"])
    }
}
