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

        // Publishing again: a new version, and the superseded one is gone from the bucket (no second copy).
        try contract.publish(partition, ["data.csv": "id\n2\n"])
        let second = try XCTUnwrap(try fixture.currentVersion(partition.path))
        XCTAssertNotEqual(first, second)
        XCTAssertEqual(try fixture.keys(), [
            "lake/_versions/silver/clients/ds=2024-01-01/\(second)/data.csv",
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
        XCTAssertEqual(try fixture.leftovers(), [])
        print("two writers: \(refusals.value) of 16 publishes refused by the conditional manifest PUT")
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
