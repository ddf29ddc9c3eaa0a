import Foundation
import Transforms
import XCTest

/// The behaviour every lake backend promises, written once and run by each backend's test class
/// (LocalLakeTests, S3LakeTests) against a lake of its kind.
struct LakeContract {
    let lake: any Lake
    /// Whatever the backend keeps besides published partitions (staging folders, unreferenced versions).
    let leftovers: () throws -> [String]

    func partition(_ table: String, _ ds: String) throws -> LakePartition { try LakePartition(table: table, ds: ds) }

    func publish(_ partition: LakePartition, _ files: [String: String]) throws {
        let staging = try lake.stage(partition)
        for (name, text) in files { try Data(text.utf8).write(to: URL(fileURLWithPath: staging.path(name))) }
        try lake.publish(staging)
    }

    func read(_ partition: LakePartition, _ name: String) throws -> String? {
        let content = try lake.content(of: partition)
        return try lake.localPath(of: name, in: content).map { try String(contentsOfFile: $0, encoding: .utf8) }
    }

    func testStageAndPublishCreateThePartition() throws {
        let partition = try partition("silver/clients", "2024-01-01")
        let staging = try lake.stage(partition)
        XCTAssertEqual(staging.partition, partition)
        XCTAssertEqual(staging.path("data.csv"), staging.folder + "/data.csv")
        try Data("id\n1\n".utf8).write(to: URL(fileURLWithPath: staging.path("data.csv")))
        try Data("bad\n".utf8).write(to: URL(fileURLWithPath: staging.path("rejects.csv")))
        XCTAssertEqual(try lake.content(of: partition).names, [], "not visible before publish")

        try lake.publish(staging)
        let content = try lake.content(of: partition)
        XCTAssertEqual(content.names, ["data.csv", "rejects.csv"])
        XCTAssertEqual(content.file(named: "data.csv")?.size, 5)
        XCTAssertEqual(try read(partition, "data.csv"), "id\n1\n")
        XCTAssertEqual(try read(partition, "rejects.csv"), "bad\n")
        XCTAssertNil(try read(partition, "missing.csv"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: staging.folder))
        XCTAssertEqual(try leftovers(), [])
    }

    func testPublishingAgainReplacesTheWholePartition() throws {
        let partition = try partition("bronze/shop/purchases", "2024-01-01")
        try publish(partition, ["part-1.csv": "old 1", "part-2.csv": "old 2", "old-only.csv": "gone"])
        XCTAssertEqual(try lake.content(of: partition).names, ["old-only.csv", "part-1.csv", "part-2.csv"])

        try publish(partition, ["part-1.csv": "new 1", "new-only.csv": "fresh"])
        XCTAssertEqual(try lake.content(of: partition).names, ["new-only.csv", "part-1.csv"], "files of the old partition disappear")
        XCTAssertEqual(try read(partition, "part-1.csv"), "new 1")
        XCTAssertEqual(try read(partition, "new-only.csv"), "fresh")
        XCTAssertNil(try read(partition, "old-only.csv"))
        XCTAssertEqual(try leftovers(), [], "the previous content is dropped")

        // An empty staging area empties the partition, which still exists.
        try publish(partition, [:])
        XCTAssertEqual(try lake.content(of: partition).names, [])
        XCTAssertEqual(try lake.partitions(of: "bronze/shop/purchases"), [partition])
        XCTAssertEqual(try leftovers(), [])
    }

    func testPublishingOnePartitionLeavesItsNeighboursAlone() throws {
        try publish(try partition("silver/t", "2024-01-01"), ["a.csv": "1"])
        try publish(try partition("silver/t", "2024-01-02"), ["b.csv": "2"])
        try publish(try partition("silver/t", "2024-01-01"), ["c.csv": "3"])
        XCTAssertEqual(try lake.content(of: try partition("silver/t", "2024-01-01")).names, ["c.csv"])
        XCTAssertEqual(try lake.content(of: try partition("silver/t", "2024-01-02")).names, ["b.csv"])
        XCTAssertEqual(try read(try partition("silver/t", "2024-01-02"), "b.csv"), "2")
    }

    func testDiscardLeavesNoTrace() throws {
        let partition = try partition("silver/clients", "2024-01-01")
        let staging = try lake.stage(partition)
        try Data("x".utf8).write(to: URL(fileURLWithPath: staging.path("data.csv")))
        lake.discard(staging)
        XCTAssertFalse(FileManager.default.fileExists(atPath: staging.folder))
        XCTAssertEqual(try leftovers(), [])
        XCTAssertEqual(try lake.content(of: partition).names, [])
        XCTAssertEqual(try lake.partitions(of: "silver/clients"), [])

        // Discarding does not touch a published partition.
        try publish(partition, ["kept.csv": "1"])
        let second = try lake.stage(partition)
        try Data("y".utf8).write(to: URL(fileURLWithPath: second.path("other.csv")))
        lake.discard(second)
        XCTAssertEqual(try lake.content(of: partition).names, ["kept.csv"])
        XCTAssertEqual(try leftovers(), [])
    }

    func testUnsafePartitionPathsAreRefused() throws {
        let bad = ["", "/etc", "/tmp/x", "..", "../outside", "silver/../../outside", "silver/./t", "silver//t", "silver/t/", "./silver"]
        for path in bad {
            XCTAssertThrowsError(try LakePartition(table: path, ds: "2024-01-01"), path) { error in
                XCTAssertEqual((error as? TransformError)?.description, "'\(path)' is not a lake path (relative, no '..' or empty parts)")
            }
            XCTAssertThrowsError(try lake.partitions(of: path), path)
        }
        for ds in ["", "2024/01/01", "../x", "a/.."] {
            XCTAssertThrowsError(try LakePartition(table: "silver/t", ds: ds), ds)
        }
        // Dots inside a name are fine.
        XCTAssertNoThrow(try lake.stage(try partition("gold/v1.2", "2024-01-01")))
    }

    func testFilesAreSortedAndSkipDotFiles() throws {
        let partition = try partition("silver/t", "2024-01-01")
        try publish(partition, ["b.csv": "", "a.csv": "", "10.csv": "", "B.csv": "", ".hidden": "", ".tmp-123": ""])
        XCTAssertEqual(try lake.content(of: partition).names, ["10.csv", "B.csv", "a.csv", "b.csv"])
        XCTAssertEqual(try lake.content(of: try self.partition("silver/t", "2099-01-01")).names, [], "a missing partition has no files")
    }

    func testPartitionsOfATable() throws {
        try publish(try partition("silver/t", "2024-01-10"), ["a.csv": ""])
        try publish(try partition("silver/t", "2024-01-02"), ["a.csv": ""])
        try publish(try partition("silver/t", "2023-12-31"), ["a.csv": ""])
        try publish(try partition("silver/other", "2024-01-01"), ["a.csv": ""])
        try publish(try partition("silver/t/sub", "2024-01-01"), ["a.csv": ""])
        XCTAssertEqual(try lake.partitions(of: "silver/t").map(\.ds), ["2023-12-31", "2024-01-02", "2024-01-10"])
        XCTAssertEqual(try lake.partitions(of: "silver"), [], "tables are not partitions")
        XCTAssertEqual(try lake.partitions(of: "gold"), [])
    }

    func testGarbageCollectionRemovesOnlyStaleLeftovers() throws {
        let partition = try partition("silver/t", "2024-01-01")
        try publish(partition, ["a.csv": "kept"])
        // A writer killed before publishing leaves its staging behind.
        let abandoned = try lake.stage(partition)
        try Data("half".utf8).write(to: URL(fileURLWithPath: abandoned.path("a.csv")))
        XCTAssertEqual(try lake.collectGarbage(olderThan: 3600, now: Date()), [], "a recent writer may still be publishing")
        XCTAssertTrue(FileManager.default.fileExists(atPath: abandoned.folder))
        let removed = try lake.collectGarbage(olderThan: 3600, now: Date().addingTimeInterval(7200))
        XCTAssertFalse(removed.isEmpty)
        XCTAssertFalse(FileManager.default.fileExists(atPath: abandoned.folder))
        XCTAssertEqual(try leftovers(), [])
        XCTAssertEqual(try read(partition, "a.csv"), "kept")
    }

    func testGarbageCollectionKeepsAStagingFolderWhoseFileIsStillGrowing() throws {
        let staging = try lake.stage(try partition("silver/t", "2024-01-01"))
        try Data("still growing".utf8).write(to: URL(fileURLWithPath: staging.path("a.csv")))
        // A folder's own mtime changes only when an entry is added or removed, not while a file inside grows.
        try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(-7200)], ofItemAtPath: staging.folder)
        XCTAssertEqual(try lake.collectGarbage(olderThan: 3600, now: Date()), [], "a writer still writing lost its staging")
        XCTAssertTrue(FileManager.default.fileExists(atPath: staging.path("a.csv")))
        lake.discard(staging)
    }
}
