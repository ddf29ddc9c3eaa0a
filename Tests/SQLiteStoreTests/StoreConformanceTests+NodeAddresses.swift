import Foundation
import MetadataStore
import XCTest

// Node addresses: where other nodes fetch the logs of a node's attempts (docs/decisions/0014).
extension StoreConformanceTests {
    func testANodesAddressIsStoredAndARestartReplacesOrClearsIt() throws {
        let store = try makeStore()
        try store.registerNode(NodeRecord(name: "node-a", startedAt: day(0), lastHeartbeat: day(0), version: "1.0", pid: 7,
                                          address: "http://10.0.0.5:8080"))
        try store.registerNode(NodeRecord(name: "node-b", startedAt: day(0), lastHeartbeat: day(0), version: "1.0", pid: 8))
        _ = try store.heartbeatNode(name: "node-a", at: day(1))

        let other = try openAgain()
        XCTAssertEqual(try other.nodes().map(\.address), ["http://10.0.0.5:8080", nil], "a heartbeat keeps the address")
        // A restart with another address (or with the web server off) replaces it.
        try other.registerNode(NodeRecord(name: "node-a", startedAt: day(2), lastHeartbeat: day(2), version: "1.0", pid: 9,
                                          address: "https://node-a.example.org/orchestrator"))
        try other.registerNode(NodeRecord(name: "node-b", startedAt: day(2), lastHeartbeat: day(2), version: "1.0", pid: 10,
                                          address: "http://10.0.0.6:8080"))
        XCTAssertEqual(try store.nodes().map(\.address), ["https://node-a.example.org/orchestrator", "http://10.0.0.6:8080"])
        try store.registerNode(NodeRecord(name: "node-a", startedAt: day(3), lastHeartbeat: day(3), version: "1.0", pid: 11))
        XCTAssertEqual(try other.nodes().first?.address, nil)
    }
}
