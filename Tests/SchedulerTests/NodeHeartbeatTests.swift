import Foundation
import MetadataStore
import PostgresClient
import PostgresStore
import Scheduler
import SQLiteStore
import XCTest

/// The node's heartbeat measures its clock against the store's: a skew beyond 5 s shows on /healthz (and the log).
final class NodeHeartbeatTests: XCTestCase {
    private var cleanup: [() -> Void] = []

    override func tearDown() { cleanup.forEach { $0() } }

    /// A PostgreSQL store in a fresh schema on the test server.
    private func postgresStore() throws -> PostgresMetadataStore {
        guard let server = ProcessInfo.processInfo.environment["ORCHESTRATOR_TEST_POSTGRES"], !server.isEmpty else {
            if ProcessInfo.processInfo.environment["ORCHESTRATOR_TEST_STRICT"] == "1" {
                XCTFail("ORCHESTRATOR_TEST_POSTGRES is not set: scripts/test should have started PostgreSQL")
            }
            throw XCTSkip("ORCHESTRATOR_TEST_POSTGRES is not set")
        }
        let schema = "heartbeat_\(getpid())_\(UInt32.random(in: 0...UInt32.max))"
        try PostgresConnection(url: server).execute("CREATE SCHEMA \(schema)")
        cleanup.append { try? PostgresConnection(url: server).execute("DROP SCHEMA IF EXISTS \(schema) CASCADE") }
        return try PostgresMetadataStore(url: server + (server.contains("?") ? "&" : "?") + "options=-csearch_path%3D\(schema)")
    }

    func testAClockAheadOfTheServersIsWarnedAboutAndOneInStepIsNot() throws {
        let store = try postgresStore()
        let skewed = NodeHeartbeat(store: store, name: "fast-node", log: SchedulerLog(minimumLevel: .error),
                                   clock: { Date().addingTimeInterval(30) })
        try skewed.start()
        defer { skewed.stop() }
        XCTAssertEqual(skewed.clockSkew, 30, accuracy: 2)
        XCTAssertTrue(skewed.health.hasPrefix("node: fast-node\nwarning: clock "), skewed.health)
        XCTAssertTrue(skewed.health.contains("s ahead of the store's (limit 5.0 s)"), skewed.health)

        let behind = NodeHeartbeat(store: store, name: "slow-node", log: SchedulerLog(minimumLevel: .error),
                                   clock: { Date().addingTimeInterval(-8) })
        try behind.start()
        defer { behind.stop() }
        XCTAssertTrue(behind.health.contains("s behind the store's"), behind.health)

        let inStep = NodeHeartbeat(store: store, name: "good-node", log: SchedulerLog(minimumLevel: .error))
        try inStep.start()
        defer { inStep.stop() }
        XCTAssertEqual(inStep.clockSkew, 0, accuracy: 2)
        XCTAssertEqual(inStep.health, "node: good-node\n")
        XCTAssertEqual(try store.nodes().map(\.name), ["fast-node", "good-node", "slow-node"])
    }

    func testOnSQLiteTheStoreSharesTheMachinesClock() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("heartbeat-\(UUID().uuidString)")
        cleanup.append { try? FileManager.default.removeItem(at: folder) }
        let store = try SQLiteMetadataStore(path: folder.appendingPathComponent("store.sqlite").path)
        let node = NodeHeartbeat(store: store, name: "local", log: SchedulerLog(minimumLevel: .error),
                                 clock: { Date(timeIntervalSince1970: 1_704_067_200) })
        try node.start()
        defer { node.stop() }
        XCTAssertEqual(node.clockSkew, 0)
        XCTAssertEqual(node.health, "node: local\n")
        XCTAssertEqual(try store.nodes().first?.lastHeartbeat, Date(timeIntervalSince1970: 1_704_067_200))
    }
}
