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
        XCTAssertEqual(try other.nodes(), [
            NodeRecord(name: "node-a", startedAt: day(0), lastHeartbeat: day(1), version: "1.0", pid: 7),
            NodeRecord(name: "node-b", startedAt: day(0), lastHeartbeat: day(0), version: "1.0", pid: 42),
        ])
        // A restart under the same name replaces the record.
        try other.registerNode(NodeRecord(name: "node-b", startedAt: day(2), lastHeartbeat: day(2), version: "1.1", pid: 43))
        XCTAssertEqual(try store.nodes().last, NodeRecord(name: "node-b", startedAt: day(2), lastHeartbeat: day(2), version: "1.1", pid: 43))
    }
}
