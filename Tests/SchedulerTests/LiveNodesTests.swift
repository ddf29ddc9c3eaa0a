import Foundation
import MetadataStore
import Scheduler
import XCTest

final class LiveNodesTests: XCTestCase {
    let now = Date(timeIntervalSince1970: 1_700_000_000)

    func node(_ name: String, silentFor seconds: Double) -> NodeRecord {
        NodeRecord(name: name, startedAt: now.addingTimeInterval(-3600), lastHeartbeat: now.addingTimeInterval(-seconds),
                   version: "test", pid: 7)
    }

    func testANodeIsAliveUntilItHasBeenSilentForTheTimeoutAndOurOwnNameNeverCounts() {
        let nodes = [node("a", silentFor: 2), node("b", silentFor: 30), node("c", silentFor: 30.5), node("mine", silentFor: 0)]
        let live = LiveNodes(timeout: 30, ownName: "mine")
        XCTAssertEqual(live.alive(nodes, now: now).map(\.name), ["a", "b"])
        XCTAssertEqual(LiveNodes(timeout: 10, ownName: "a").alive(nodes, now: now).map(\.name), ["mine"])
        XCTAssertEqual(live.alive([], now: now), [])
    }
}
