import Foundation
import S3Client
import Transforms
import XCTest

/// The shared lake contract on a bucket of the moto server, and what only the S3 lake does: versions and a
/// manifest, the read cache, errors.
final class S3LakeTests: XCTestCase {
    private var directory: TemporaryDirectory!
    private var fixture: S3LakeFixture!
    private var contract: LakeContract!

    override func setUpWithError() throws {
        directory = try TemporaryDirectory()
        fixture = try S3LakeFixture(home: directory.path)
        let fixture = fixture!
        contract = LakeContract(lake: try fixture.lake()) { try fixture.leftovers() }
    }

    override func tearDown() {
        contract = nil
        fixture = nil
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

    func testAPartitionIsAVersionedPrefixAndAManifest() throws {
        let partition = try LakePartition(table: "silver/clients", ds: "2024-01-01")
        try contract.publish(partition, ["data.csv": "id\n1\n", "_schema.json": "{}"])
        let first = try XCTUnwrap(try fixture.currentVersion(partition.path))
        XCTAssertEqual(try fixture.keys(), [
            "lake/_versions/silver/clients/ds=2024-01-01/\(first)/_schema.json",
            "lake/_versions/silver/clients/ds=2024-01-01/\(first)/data.csv",
            "lake/silver/clients/ds=2024-01-01/_manifest.json",
        ])
        let (bytes, _) = try XCTUnwrap(try fixture.client.getObject(bucket: fixture.bucket, key: "lake/\(partition.path)/_manifest.json", maxBytes: 1 << 20))
        let manifest = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
        let files = try XCTUnwrap(manifest["files"] as? [[String: Any]])
        XCTAssertEqual(files.map { $0["name"] as? String }, ["_schema.json", "data.csv"])
        XCTAssertEqual(files.map { $0["size"] as? Int }, [2, 5])
        let head = try XCTUnwrap(try fixture.client.headObject(bucket: fixture.bucket, key: "lake/_versions/\(partition.path)/\(first)/data.csv"))
        XCTAssertEqual(files[1]["etag"] as? String, head.etag)

        // Publishing again: a new version; the superseded one stays, whole, for readers of the old manifest.
        let reader = try contract.lake.content(of: partition)
        try contract.publish(partition, ["data.csv": "id\n2\n"])
        let second = try XCTUnwrap(try fixture.currentVersion(partition.path))
        XCTAssertNotEqual(first, second)
        XCTAssertEqual(try fixture.previousVersion(partition.path), first)
        XCTAssertEqual(try String(contentsOfFile: try XCTUnwrap(try contract.lake.localPath(of: "data.csv", in: reader)), encoding: .utf8),
                       "id\n1\n", "a reader of the old manifest still reads the old version")
        XCTAssertEqual(try fixture.keys(), [
            "lake/_versions/silver/clients/ds=2024-01-01/\(first)/_schema.json",
            "lake/_versions/silver/clients/ds=2024-01-01/\(first)/data.csv",
            "lake/_versions/silver/clients/ds=2024-01-01/\(second)/data.csv",
            "lake/silver/clients/ds=2024-01-01/_manifest.json",
        ].sorted())
        // The next publish removes the version superseded before (never a second old copy).
        try contract.publish(partition, ["data.csv": "id\n3\n"])
        let third = try XCTUnwrap(try fixture.currentVersion(partition.path))
        XCTAssertEqual(try fixture.keys(), [
            "lake/_versions/silver/clients/ds=2024-01-01/\(second)/data.csv",
            "lake/_versions/silver/clients/ds=2024-01-01/\(third)/data.csv",
            "lake/silver/clients/ds=2024-01-01/_manifest.json",
        ].sorted())
        // gc removes the superseded version once the manifest is older than its grace, never the current one.
        XCTAssertEqual(try contract.lake.collectGarbage(olderThan: 60, now: Date()), [])
        XCTAssertEqual(try contract.lake.collectGarbage(olderThan: 0, now: Date().addingTimeInterval(2)),
                       ["s3://\(fixture.bucket)/lake/_versions/silver/clients/ds=2024-01-01/\(second)/"])
        XCTAssertEqual(try fixture.keys(), [
            "lake/_versions/silver/clients/ds=2024-01-01/\(third)/data.csv",
            "lake/silver/clients/ds=2024-01-01/_manifest.json",
        ])
        XCTAssertEqual(contract.lake.description, "s3://\(fixture.bucket)/lake")
        XCTAssertEqual(try contract.lake.content(of: partition).files.first?.displayPath, "s3://\(fixture.bucket)/lake/silver/clients/ds=2024-01-01/data.csv")
    }

    func testTwoWritersOfOnePartitionNeverMixTheirFiles() throws {
        let partition = try LakePartition(table: "silver/t", ds: "2024-01-01")
        let lake = contract.lake
        let refusals = LockedCounter()
        DispatchQueue.concurrentPerform(iterations: 2) { writer in
            for round in 0..<8 {
                do {
                    let staging = try lake.stage(partition)
                    for name in ["a.csv", "b.csv"] {
                        try Data("writer \(writer) round \(round)".utf8).write(to: URL(fileURLWithPath: staging.path(name)))
                    }
                    do { try lake.publish(staging) } catch {
                        lake.discard(staging)
                        XCTAssertTrue("\(error)".hasSuffix("another writer published it meanwhile; nothing published"), "\(error)")
                        refusals.add()
                    }
                } catch { XCTFail("\(error)") }
            }
        }
        // Whatever won, the partition is one writer's whole publish.
        XCTAssertEqual(try contract.read(partition, "a.csv"), try contract.read(partition, "b.csv"))
        // moto may check If-Match and then put (not atomically): a loser can be left with a version nobody names, which
        // gc cleans up; the partition still never mixes two writers' files.
        _ = try lake.collectGarbage(olderThan: 0, now: Date().addingTimeInterval(2))
        XCTAssertEqual(try fixture.leftovers(), [])
        XCTAssertEqual(try contract.read(partition, "a.csv"), try contract.read(partition, "b.csv"))
        print("two writers: \(refusals.value) of 16 publishes refused by the conditional manifest PUT")
    }

    func testGcJudgesAnUnpublishedVersionByItsNewestObjectNotItsName() throws {
        // A publish that started long ago (its version's name says so) and is still uploading: its objects are new.
        let stale = "lake/_versions/silver/slow/ds=2024-01-01/20000101T000000Z-0badc0de/part-1.csv"
        _ = try fixture.client.putObject(bucket: fixture.bucket, key: stale, bytes: Array("id\n1\n".utf8))
        XCTAssertEqual(try contract.lake.collectGarbage(olderThan: 3600, now: Date()), [], "a publish in flight lost its files")
        XCTAssertTrue(try fixture.keys().contains(stale))
        XCTAssertEqual(try contract.lake.collectGarbage(olderThan: 3600, now: Date().addingTimeInterval(3700)),
                       ["s3://\(fixture.bucket)/lake/_versions/silver/slow/ds=2024-01-01/20000101T000000Z-0badc0de/"])
        XCTAssertFalse(try fixture.keys().contains(stale))
    }

    func testRepeatedReadsComeFromTheBoundedCache() throws {
        let partition = try LakePartition(table: "silver/clients", ds: "2024-01-01")
        try contract.publish(partition, ["data.csv": "id\n1\n"])
        let lake = contract.lake
        let first = try XCTUnwrap(try lake.localPath(of: "data.csv", in: try lake.content(of: partition)))
        XCTAssertTrue(first.hasPrefix(directory.path + "/cache/lake/"), first)
        // Served from the cache: the object itself is no longer needed.
        let version = try XCTUnwrap(try fixture.currentVersion(partition.path))
        try fixture.client.deleteObjects(bucket: fixture.bucket, keys: ["lake/_versions/\(partition.path)/\(version)/data.csv"])
        XCTAssertEqual(try lake.localPath(of: "data.csv", in: try lake.content(of: partition)), first)
        XCTAssertEqual(try String(contentsOfFile: first, encoding: .utf8), "id\n1\n")

        // New content, new entry.
        try contract.publish(partition, ["data.csv": "id\n1\n2\n"])
        let second = try XCTUnwrap(try lake.localPath(of: "data.csv", in: try lake.content(of: partition)))
        XCTAssertNotEqual(first, second)
        XCTAssertEqual(try String(contentsOfFile: second, encoding: .utf8), "id\n1\n2\n")
    }

    func testAMissingBucketFailsInOneLineAndPublishesNothing() throws {
        let lake = try LakeFactory.make(url: "s3://no-such-bucket-\(UUID().uuidString.lowercased().prefix(8))/lake", home: directory.path,
                                        folder: directory.path, environment: fixture.environment, connections: Connections(urls: [:]))
        let partition = try LakePartition(table: "silver/t", ds: "2024-01-01")
        let staging = try lake.stage(partition)
        try Data("x".utf8).write(to: URL(fileURLWithPath: staging.path("data.csv")))
        XCTAssertThrowsError(try lake.publish(staging)) { error in
            let line = "\(error)"
            XCTAssertFalse(line.contains("\n"), line)
            XCTAssertTrue(line.hasPrefix("lake s3://no-such-bucket-"), line)
            XCTAssertTrue(line.lowercased().contains("bucket"), line)
            XCTAssertFalse(line.contains("testing-secret"), line)
        }
        XCTAssertThrowsError(try lake.partitions(of: "silver/t"))
    }

    func testMissingCredentialsAndBadURLsAreOneClearLine() throws {
        func failure(_ url: String, _ environment: [String: String]) -> String {
            do {
                _ = try LakeFactory.make(url: url, home: directory.path, folder: directory.path, environment: environment, connections: Connections(urls: [:]))
                return "no error"
            } catch { return "\(error)" }
        }
        XCTAssertEqual(failure("s3://bucket/lake", ["AWS_ENDPOINT_URL": fixture.endpoint]),
                       "lake s3://bucket/lake: no S3 credentials (set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or ?connection=NAME)")
        XCTAssertEqual(failure("s3:///lake", fixture.environment),
                       "lake URL 's3:///lake': needs a bucket (s3://bucket/prefix; credentials go in AWS_* variables or a connection)")
        let withSecret = failure("s3://key:hunter2secret@bucket/lake", fixture.environment)
        XCTAssertFalse(withSecret.contains("hunter2secret"), withSecret)
        XCTAssertEqual(failure("s3://bucket/../x", fixture.environment),
                       "lake URL 's3://bucket/../x': the prefix '../x' is not a lake path (relative, no '..' or empty parts)")
    }

    func testANamedConnectionGivesEndpointAndCredentials() throws {
        let url = fixture.endpoint.replacingOccurrences(of: "http://", with: "http://testing:conn-secret@")
        let lake = try LakeFactory.make(url: "s3://\(fixture.bucket)/viaconn?connection=minio", home: directory.path, folder: directory.path,
                                        environment: [:], connections: Connections(urls: ["minio": url]))
        let partition = try LakePartition(table: "gold/x", ds: "2024-01-01")
        let staging = try lake.stage(partition)
        try Data("a\n".utf8).write(to: URL(fileURLWithPath: staging.path("data.csv")))
        try lake.publish(staging)
        XCTAssertEqual(try lake.content(of: partition).names, ["data.csv"])
        XCTAssertTrue(try fixture.keys().contains("viaconn/gold/x/ds=2024-01-01/_manifest.json"))
    }
}

final class LockedCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func add() { lock.lock(); count += 1; lock.unlock() }
    var value: Int { lock.lock(); defer { lock.unlock() }; return count }
}
