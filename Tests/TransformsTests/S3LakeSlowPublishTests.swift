import Foundation
@testable import Transforms
import XCTest

/// A publish whose upload took longer than gc's grace period does not switch the manifest: gc may already have
/// taken its first files for an abandoned upload's.
final class S3LakeSlowPublishTests: XCTestCase {
    func testAPublishSlowerThanTheGcGraceRefusesToSwitchTheManifest() throws {
        let directory = try TemporaryDirectory()
        let fixture = try S3LakeFixture(home: directory.path)
        var lake = try XCTUnwrap(try fixture.lake() as? S3Lake)
        let partition = try LakePartition(table: "silver/slow", ds: "2024-01-01")
        let first = try lake.stage(partition)
        try Data("id\n1\n".utf8).write(to: URL(fileURLWithPath: first.path("data.csv")))
        try lake.publish(first)
        let published = try XCTUnwrap(try fixture.currentVersion(partition.path))

        // Any upload takes longer than a grace of -1 s.
        lake.gcGrace = -1
        let slow = try lake.stage(partition)
        try Data("id\n2\n".utf8).write(to: URL(fileURLWithPath: slow.path("data.csv")))
        XCTAssertThrowsError(try lake.publish(slow)) { error in
            let line = "\(error)"
            XCTAssertTrue(line.hasPrefix("lake s3://\(fixture.bucket)/lake: cannot publish silver/slow/ds=2024-01-01: the upload took"), line)
            XCTAssertTrue(line.hasSuffix("nothing published"), line)
        }
        lake.discard(slow)
        XCTAssertEqual(try fixture.currentVersion(partition.path), published)
        XCTAssertEqual(try fixture.leftovers(), [], "the refused upload was removed")
    }
}
