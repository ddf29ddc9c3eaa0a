import Foundation
import MetadataStore
@testable import Notifications
import SQLiteStore
import XCTest

/// A target name this node's configuration lacks may be another node's (a configuration rolled out node by node):
/// the message is retried, so that a node that knows the name can claim it, and fails only after its attempts.
final class UnknownTargetTests: XCTestCase {
    func testAMessageForATargetThisNodeLacksIsRetriedBeforeItFails() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("unknown-target-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let store = try SQLiteMetadataStore(path: folder.appendingPathComponent("store.db").path)
        XCTAssertTrue(try store.enqueueNotification(eventKey: "run-failed:etl:r1", target: "ops", payload: "{}", at: Date()))
        let sender = WebhookSender(store: store, named: [:], maxAttempts: 3, log: { _, _ in })
        sender.deliverDue()
        XCTAssertEqual(try store.notificationCounts().failed, 0, "retried, not failed at the first node without the name")
        XCTAssertEqual(try store.notificationCounts().pending, 1)
    }
}
