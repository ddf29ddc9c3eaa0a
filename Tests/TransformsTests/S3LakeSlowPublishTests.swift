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

/// `lake gc` with a grace shorter than an upload can remove a version's first files while a later one is still
/// going up: the publish sees the gap before its manifest switch and publishes nothing.
final class S3LakeFilesRemovedMidPublishTests: XCTestCase {
    func testAFileRemovedBeforeTheManifestSwitchFailsThePublishAndKeepsThePreviousVersion() throws {
        let directory = try TemporaryDirectory()
        let fixture = try S3LakeFixture(home: directory.path)
        var lake = try XCTUnwrap(try fixture.lake() as? S3Lake)
        let partition = try LakePartition(table: "silver/raced", ds: "2024-01-01")
        let first = try lake.stage(partition)
        try Data("id\n1\n".utf8).write(to: URL(fileURLWithPath: first.path("data.csv")))
        try lake.publish(first)
        let published = try XCTUnwrap(try fixture.currentVersion(partition.path))

        // As a short-grace gc would: every unreferenced version's objects go while this publish is between its
        // uploads and its switch.
        let client = lake.client, bucket = fixture.bucket, root = lake.key("_versions/")
        lake.beforeManifestSwitch = {
            let keys = (try? client.list(bucket: bucket, prefix: root).objects.map(\.key)) ?? []
            let unreferenced = keys.filter { !$0.contains("/\(published)/") }
            try? client.deleteObjects(bucket: bucket, keys: Array(unreferenced.prefix(1)))
        }
        let second = try lake.stage(partition)
        try Data("id\n2\n".utf8).write(to: URL(fileURLWithPath: second.path("data.csv")))
        try Data("id\n3\n".utf8).write(to: URL(fileURLWithPath: second.path("more.csv")))
        XCTAssertThrowsError(try lake.publish(second)) { error in
            let line = "\(error)"
            XCTAssertTrue(line.contains("went missing from the upload before the manifest switch"), line)
            XCTAssertTrue(line.hasSuffix("nothing published"), line)
        }
        lake.discard(second)
        XCTAssertEqual(try fixture.currentVersion(partition.path), published, "the previous version stays current")
        XCTAssertEqual(try fixture.leftovers(), [], "what the refused upload left was removed")
    }
}
