import Foundation
import Transforms
import XCTest

final class LocalLakeTests: XCTestCase {
    private var directory: TemporaryDirectory!
    private var lake: LocalLake!

    override func setUpWithError() throws {
        directory = try TemporaryDirectory()
        lake = LocalLake(root: directory.path)
    }

    override func tearDown() {
        lake = nil
        directory = nil
    }

    private func write(_ text: String, to path: String) throws {
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
    }

    private func read(_ path: String) throws -> String {
        try String(contentsOfFile: path, encoding: .utf8)
    }

    private func names(_ paths: [String]) -> [String] { paths.map { ($0 as NSString).lastPathComponent } }

    private func stagingLeftovers() -> [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: directory.file(".staging"))) ?? []
    }

    private func publish(_ partition: String, _ files: [String: String]) throws {
        let staging = try lake.stage(partition)
        for (name, text) in files { try write(text, to: staging.path(name)) }
        try lake.publish(staging)
    }

    func testStageAndPublishCreateThePartition() throws {
        let partition = "silver/clients/ds=2024-01-01"
        let staging = try lake.stage(partition)
        XCTAssertEqual(staging.partition, partition)
        XCTAssertTrue(staging.folder.hasPrefix(directory.path + "/"))
        XCTAssertEqual(staging.path("data.csv"), staging.folder + "/data.csv")
        try write("id\n1\n", to: staging.path("data.csv"))
        try write("bad\n", to: staging.path("rejects.csv"))
        XCTAssertEqual(try lake.files(in: partition), [], "not visible before publish")

        try lake.publish(staging)
        let target = directory.file(partition)
        XCTAssertEqual(try lake.files(in: partition), ["\(target)/data.csv", "\(target)/rejects.csv"])
        XCTAssertEqual(try read("\(target)/data.csv"), "id\n1\n")
        XCTAssertFalse(FileManager.default.fileExists(atPath: staging.folder))
        XCTAssertEqual(stagingLeftovers(), [])
        XCTAssertEqual(lake.description, directory.path)
    }

    func testPublishingAgainReplacesTheWholePartition() throws {
        let partition = "bronze/shop/purchases/ds=2024-01-01"
        try publish(partition, ["part-1.csv": "old 1", "part-2.csv": "old 2", "old-only.csv": "gone"])
        XCTAssertEqual(names(try lake.files(in: partition)), ["old-only.csv", "part-1.csv", "part-2.csv"])

        try publish(partition, ["part-1.csv": "new 1", "new-only.csv": "fresh"])
        let files = try lake.files(in: partition)
        XCTAssertEqual(names(files), ["new-only.csv", "part-1.csv"], "files of the old partition disappear")
        XCTAssertEqual(try read(directory.file("\(partition)/part-1.csv")), "new 1")
        XCTAssertEqual(try read(directory.file("\(partition)/new-only.csv")), "fresh")
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory.file("\(partition)/old-only.csv")))
        XCTAssertEqual(stagingLeftovers(), [], "the previous content is dropped")

        // An empty staging area empties the partition.
        try publish(partition, [:])
        XCTAssertEqual(try lake.files(in: partition), [])
        XCTAssertTrue(FileManager.default.fileExists(atPath: directory.file(partition)))
        XCTAssertEqual(stagingLeftovers(), [])
    }

    func testPublishingOnePartitionLeavesItsNeighboursAlone() throws {
        try publish("silver/t/ds=2024-01-01", ["a.csv": "1"])
        try publish("silver/t/ds=2024-01-02", ["b.csv": "2"])
        try publish("silver/t/ds=2024-01-01", ["c.csv": "3"])
        XCTAssertEqual(names(try lake.files(in: "silver/t/ds=2024-01-01")), ["c.csv"])
        XCTAssertEqual(names(try lake.files(in: "silver/t/ds=2024-01-02")), ["b.csv"])
    }

    func testDiscardLeavesNoTrace() throws {
        let partition = "silver/clients/ds=2024-01-01"
        let staging = try lake.stage(partition)
        try write("x", to: staging.path("data.csv"))
        lake.discard(staging)
        XCTAssertFalse(FileManager.default.fileExists(atPath: staging.folder))
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory.file("silver")))
        XCTAssertEqual(stagingLeftovers(), [])
        XCTAssertEqual(try lake.files(in: partition), [])
        XCTAssertEqual(try lake.partitions(under: "silver/clients"), [])

        // Discarding does not touch a published partition.
        try publish(partition, ["kept.csv": "1"])
        let second = try lake.stage(partition)
        try write("y", to: second.path("other.csv"))
        lake.discard(second)
        XCTAssertEqual(names(try lake.files(in: partition)), ["kept.csv"])
        XCTAssertEqual(stagingLeftovers(), [])
    }

    func testUnsafePartitionPathsAreRefused() throws {
        let bad = ["", "/etc", "/tmp/x", "..", "../outside", "silver/../../outside", "silver/./t", "silver//t", "silver/t/", "./silver"]
        for path in bad {
            XCTAssertThrowsError(try lake.stage(path), path) { error in
                XCTAssertEqual((error as? TransformError)?.description, "'\(path)' is not a lake path (relative, no '..' or empty parts)")
            }
            XCTAssertThrowsError(try lake.files(in: path), path)
            XCTAssertThrowsError(try lake.partitions(under: path), path)
        }
        // A staging area built by hand cannot publish outside the lake either.
        let folder = directory.file("handmade")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        XCTAssertThrowsError(try lake.publish(LakeStaging(partition: "../escaped", folder: folder)))
        XCTAssertFalse(FileManager.default.fileExists(atPath: (directory.path as NSString).deletingLastPathComponent + "/escaped"))
        XCTAssertTrue(FileManager.default.fileExists(atPath: folder))
        // Dots inside a name are fine.
        XCTAssertNoThrow(try lake.stage("gold/v1.2/ds=2024-01-01"))
    }

    func testFilesAreSortedAndSkipDotFiles() throws {
        let partition = "silver/t/ds=2024-01-01"
        try publish(partition, ["b.csv": "", "a.csv": "", "10.csv": "", "B.csv": "", ".hidden": "", ".tmp-123": ""])
        let target = directory.file(partition)
        XCTAssertEqual(try lake.files(in: partition), ["\(target)/10.csv", "\(target)/B.csv", "\(target)/a.csv", "\(target)/b.csv"])
        XCTAssertEqual(try lake.files(in: "silver/t/ds=2099-01-01"), [], "a missing partition has no files")
    }

    func testPartitionsUnderAPrefix() throws {
        try publish("silver/t/ds=2024-01-10", ["a.csv": ""])
        try publish("silver/t/ds=2024-01-02", ["a.csv": ""])
        try publish("silver/t/ds=2023-12-31", ["a.csv": ""])
        try publish("silver/other/ds=2024-01-01", ["a.csv": ""])
        try FileManager.default.createDirectory(atPath: directory.file("silver/t/.in-progress"), withIntermediateDirectories: true)
        XCTAssertEqual(try lake.partitions(under: "silver/t"), ["silver/t/ds=2023-12-31", "silver/t/ds=2024-01-02", "silver/t/ds=2024-01-10"])
        XCTAssertEqual(try lake.partitions(under: "silver"), ["silver/other", "silver/t"])
        XCTAssertEqual(try lake.partitions(under: "gold"), [])
    }
}
