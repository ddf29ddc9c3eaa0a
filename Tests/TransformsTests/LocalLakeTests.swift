import Foundation
import Transforms
import XCTest

/// The shared lake contract on the local folder, and what only the local lake does.
final class LocalLakeTests: XCTestCase {
    private var directory: TemporaryDirectory!
    private var contract: LakeContract!

    override func setUpWithError() throws {
        directory = try TemporaryDirectory()
        let staging = directory.file(".staging")
        contract = LakeContract(lake: LocalLake(root: directory.path)) {
            (try? FileManager.default.contentsOfDirectory(atPath: staging)) ?? []
        }
    }

    override func tearDown() {
        contract = nil
        directory = nil
    }

    func testStageAndPublishCreateThePartition() throws { try contract.testStageAndPublishCreateThePartition() }
    func testPublishingAgainReplacesTheWholePartition() throws { try contract.testPublishingAgainReplacesTheWholePartition() }
    func testPublishingOnePartitionLeavesItsNeighboursAlone() throws { try contract.testPublishingOnePartitionLeavesItsNeighboursAlone() }
    func testDiscardLeavesNoTrace() throws { try contract.testDiscardLeavesNoTrace() }
    func testUnsafePartitionPathsAreRefused() throws { try contract.testUnsafePartitionPathsAreRefused() }
    func testFilesAreSortedAndSkipDotFiles() throws { try contract.testFilesAreSortedAndSkipDotFiles() }
    func testPartitionsOfATable() throws { try contract.testPartitionsOfATable() }
    func testGarbageCollectionRemovesOnlyStaleLeftovers() throws { try contract.testGarbageCollectionRemovesOnlyStaleLeftovers() }
    func testGarbageCollectionKeepsAStagingFolderWhoseFileIsStillGrowing() throws {
        try contract.testGarbageCollectionKeepsAStagingFolderWhoseFileIsStillGrowing()
    }

    func testFilesAreReadInPlaceUnderTheRoot() throws {
        let lake = LocalLake(root: directory.path)
        let partition = try LakePartition(table: "silver/clients", ds: "2024-01-01")
        try contract.publish(partition, ["data.csv": "id\n1\n"])
        let file = try XCTUnwrap(try lake.content(of: partition).file(named: "data.csv"))
        XCTAssertEqual(try lake.localPath(of: file), directory.file("silver/clients/ds=2024-01-01/data.csv"))
        XCTAssertEqual(file.displayPath, directory.file("silver/clients/ds=2024-01-01/data.csv"))
        XCTAssertEqual(lake.description, directory.path)
        try FileManager.default.createDirectory(atPath: directory.file("silver/clients/.in-progress"), withIntermediateDirectories: true)
        XCTAssertEqual(try lake.partitions(of: "silver/clients"), [partition])
    }

    func testTheFactoryPicksTheLocalLakeForPathsAndFileURLs() throws {
        func root(_ url: String) throws -> String? {
            (try LakeFactory.make(url: url, home: directory.path, folder: "/srv/dags", environment: [:],
                                  connections: Connections(urls: [:])) as? LocalLake)?.root
        }
        XCTAssertEqual(try root("/var/lake"), "/var/lake")
        XCTAssertEqual(try root("file:///var/lake"), "/var/lake")
        XCTAssertEqual(try root("lake"), "/srv/dags/lake", "relative to the DAG's folder")
        XCTAssertThrowsError(try root("file://relative")) { error in
            XCTAssertEqual("\(error)", "lake URL 'file://relative': file:// needs an absolute path (file:///srv/lake)")
        }
        XCTAssertThrowsError(try root("ftp://user:hunter22@host/lake")) { error in
            XCTAssertFalse("\(error)".contains("hunter22"), "\(error)")
            XCTAssertTrue("\(error)".contains("unknown scheme"), "\(error)")
        }
    }
}
