import Foundation
import MetadataStore
import XCTest

// Nodes: registered at start, heartbeating, visible to every connection.
extension StoreConformanceTests {
    func testNodesRegisterAndHeartbeatAndEveryConnectionSeesThem() throws {
        let store = try makeStore()
        try store.registerNode(NodeRecord(name: "node-b", startedAt: day(0), lastHeartbeat: day(0), version: "1.0", pid: 42))
        try store.registerNode(NodeRecord(name: "node-a", startedAt: day(0), lastHeartbeat: day(0), version: "1.0", pid: 7))
        let storeClock = try store.heartbeatNode(name: "node-a", at: day(1))
        // A store with a clock of its own (a server) reports it; the test server runs on this machine.
        if let storeClock { XCTAssertEqual(storeClock.timeIntervalSinceNow, 0, accuracy: 60) }

        let other = try openAgain()
        let seen = try other.nodes()
        XCTAssertEqual(seen.map(\.name), ["node-a", "node-b"])
        XCTAssertEqual(seen.map(\.startedAt), [day(0), day(0)])
        XCTAssertEqual(seen.map(\.pid), [7, 42])
        XCTAssertEqual(seen.map(\.version), ["1.0", "1.0"])
        // A store with a clock of its own stamps the heartbeats with it, whatever time the node gave.
        try assertStamped(seen.first?.lastHeartbeat, localTime: day(1), store: store)
        try assertStamped(seen.last?.lastHeartbeat, localTime: day(0), store: store)
        // A restart under the same name replaces the record.
        try other.registerNode(NodeRecord(name: "node-b", startedAt: day(2), lastHeartbeat: day(2), version: "1.1", pid: 43))
        let restarted = try XCTUnwrap(try store.nodes().last)
        XCTAssertEqual([restarted.startedAt], [day(2)])
        XCTAssertEqual(restarted.version, "1.1")
        XCTAssertEqual(restarted.pid, 43)
    }

    /// A node's heartbeat stamped by a clock an hour behind: on a store with a clock of its own it is as fresh as any
    /// other (its age is judged by that clock), so the node is not taken for lost.
    func testASkewedNodesHeartbeatIsFreshByTheStoresClock() throws {
        let store = try makeStore()
        guard let before = try store.storeTime() else { throw XCTSkip("one machine, one clock: the store stamps the node's time") }
        let skewed = Date().addingTimeInterval(-3600)
        try store.registerNode(NodeRecord(name: "behind", startedAt: skewed, lastHeartbeat: skewed, version: "1.0", pid: 7))
        _ = try store.heartbeatNode(name: "behind", at: skewed)
        let beat = try XCTUnwrap(try store.nodes().first?.lastHeartbeat)
        let after = try XCTUnwrap(try store.storeTime())
        XCTAssertTrue(before <= beat && beat <= after, "\(beat) between \(before) and \(after)")
    }

    /// Nodes silent for long are forgotten, so the table (and the nodes API) stays bounded; the others stay.
    func testNodesSilentBeforeACutoffArePruned() throws {
        let store = try makeStore()
        try store.registerNode(NodeRecord(name: "alive", startedAt: Date(), lastHeartbeat: Date(), version: "1.0", pid: 1))
        try store.registerNode(NodeRecord(name: "gone", startedAt: day(0), lastHeartbeat: day(0), version: "1.0", pid: 2))
        let ownClock = try store.storeTime()
        let now = ownClock ?? Date()
        // A store with a clock of its own stamps every registration now: there "gone" is as fresh as "alive".
        XCTAssertEqual(try store.pruneNodes(silentBefore: now.addingTimeInterval(-7 * 86_400)), ownClock == nil ? 1 : 0)
        XCTAssertEqual(try store.nodes().map(\.name), ownClock == nil ? ["alive"] : ["alive", "gone"])
        XCTAssertEqual(try store.pruneNodes(silentBefore: now.addingTimeInterval(3600)), ownClock == nil ? 1 : 2,
                       "every node silent since before the cutoff")
        XCTAssertEqual(try store.nodes(), [])
    }
}
