import Foundation
import S3Client
import XCTest

/// Put, get, head, list, delete and conditional writes against the moto server.
final class S3ObjectTests: XCTestCase {
    private var client: S3Client!
    private var bucket = ""

    override func setUpWithError() throws {
        let endpoint = try S3TestServer.requireEndpoint()
        client = try S3Client(S3TestServer.configuration(endpoint: endpoint))
        bucket = S3TestServer.uniqueBucket()
        try client.createBucket(bucket)
    }

    func testSmallObjectRoundTripsThroughMemoryAndFile() throws {
        let bytes = Array("id,name\n1,Zoë & <co>\n".utf8)
        let etag = try client.putObject(bucket: bucket, key: "raw/a b+c/ü.csv", bytes: bytes)
        // S3's ETag of a single-part upload is the MD5 of the body: computed here by coreutils.
        let directory = try TemporaryDirectory()
        let source = directory.file("source")
        XCTAssertTrue(FileManager.default.createFile(atPath: source, contents: Data(bytes)))
        let md5 = String(try runTool("/usr/bin/md5sum", [source]).prefix(32))
        XCTAssertEqual(etag, "\"\(md5)\"")

        let fetched = try XCTUnwrap(try client.getObject(bucket: bucket, key: "raw/a b+c/ü.csv", maxBytes: 1024))
        XCTAssertEqual(fetched.bytes, bytes)
        XCTAssertEqual(fetched.etag, etag)

        let target = directory.file("copy.csv")
        let info = try client.getObject(bucket: bucket, key: "raw/a b+c/ü.csv", toFile: target)
        XCTAssertEqual(info, S3ObjectInfo(key: "raw/a b+c/ü.csv", size: Int64(bytes.count), etag: etag))
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: target)), Data(bytes))

        XCTAssertEqual(try client.headObject(bucket: bucket, key: "raw/a b+c/ü.csv"),
                       S3ObjectInfo(key: "raw/a b+c/ü.csv", size: Int64(bytes.count), etag: etag))
    }

    func testEmptyObject() throws {
        let etag = try client.putObject(bucket: bucket, key: "empty", bytes: [])
        XCTAssertEqual(etag, "\"d41d8cd98f00b204e9800998ecf8427e\"")   // MD5 of nothing
        XCTAssertEqual(try client.getObject(bucket: bucket, key: "empty", maxBytes: 10)?.bytes, [])
    }

    func testMissingKeyIsNilAndMissingBucketIsAnError() throws {
        XCTAssertNil(try client.headObject(bucket: bucket, key: "nope"))
        XCTAssertNil(try client.getObject(bucket: bucket, key: "nope", maxBytes: 10))
        let missing = S3TestServer.uniqueBucket()
        let head = s3Error { _ = try client.headObject(bucket: missing, key: "k") }
        XCTAssertEqual(head?.kind, .noSuchBucket)
        let get = s3Error { _ = try client.getObject(bucket: missing, key: "k", maxBytes: 10) }
        XCTAssertEqual(get?.kind, .noSuchBucket)
        XCTAssertEqual(get?.operation, "GET s3://\(missing)/k")
        let put = s3Error { _ = try client.putObject(bucket: missing, key: "k", bytes: [1]) }
        XCTAssertEqual(put?.kind, .noSuchBucket)
        XCTAssertEqual(s3Error { try client.headBucket(missing) }?.kind, .noSuchBucket)
        XCTAssertEqual(s3Error { _ = try client.list(bucket: missing, prefix: "") }?.kind, .noSuchBucket)
        XCTAssertNoThrow(try client.headBucket(bucket))
        XCTAssertNoThrow(try client.createBucket(bucket), "creating a bucket we own again is fine")
    }

    func testInvalidNamesAreRefusedBeforeAnyRequest() throws {
        // An empty key would address the bucket itself: a PUT there is a CreateBucket.
        let empty = s3Error { _ = try client.putObject(bucket: bucket, key: "", bytes: [1]) }
        XCTAssertEqual(empty?.kind, .invalidRequest)
        XCTAssertEqual(empty?.message, "the object key is empty")
        XCTAssertEqual(s3Error { _ = try client.headObject(bucket: "Upper_Case", key: "k") }?.kind, .invalidRequest)
        XCTAssertEqual(s3Error { try client.createBucket("ab") }?.kind, .invalidRequest)
        XCTAssertEqual(s3Error { try client.deleteObjects(bucket: bucket, keys: ["a", ""]) }?.kind, .invalidRequest)
        XCTAssertEqual(s3Error { _ = try client.getObject(bucket: bucket, key: String(repeating: "k", count: 1025), maxBytes: 1) }?.kind,
                       .invalidRequest)
        XCTAssertNoThrow(try client.list(bucket: bucket, prefix: ""), "an empty prefix lists everything")
    }

    func testGetIntoMemoryRefusesAnObjectOverTheLimit() throws {
        _ = try client.putObject(bucket: bucket, key: "big", bytes: [UInt8](repeating: 7, count: 5000))
        let error = s3Error { _ = try client.getObject(bucket: bucket, key: "big", maxBytes: 4096) }
        XCTAssertEqual(error?.kind, .badResponse)
        XCTAssertEqual(error?.message.contains("4096"), true)
    }

    func testOneClientServesManyThreadsAtOnce() throws {
        let client = try XCTUnwrap(client)
        let bucket = bucket
        let failures = FailureList()
        DispatchQueue.concurrentPerform(iterations: 8) { worker in
            do {
                for round in 0..<10 {
                    let bytes = Array("worker \(worker) round \(round)".utf8)
                    _ = try client.putObject(bucket: bucket, key: "w\(worker)/r\(round)", bytes: bytes)
                    if try client.getObject(bucket: bucket, key: "w\(worker)/r\(round)", maxBytes: 100)?.bytes != bytes {
                        failures.append("w\(worker)/r\(round) came back different")
                    }
                }
            } catch {
                failures.append("\(error)")
            }
        }
        XCTAssertEqual(failures.all, [])
        XCTAssertEqual(try client.list(bucket: bucket, prefix: "w").objects.count, 80)
    }

    func testConditionalPutBothWays() throws {
        let first = try client.putObject(bucket: bucket, key: "manifest.json", bytes: Array("v1".utf8), ifNoneMatch: true)
        let refused = s3Error { _ = try client.putObject(bucket: bucket, key: "manifest.json", bytes: Array("v2".utf8), ifNoneMatch: true) }
        XCTAssertEqual(refused?.kind, .preconditionFailed)
        XCTAssertEqual(refused?.isRetryable, false)

        let second = try client.putObject(bucket: bucket, key: "manifest.json", bytes: Array("v2".utf8), ifMatch: first)
        XCTAssertNotEqual(first, second)
        let stale = s3Error { _ = try client.putObject(bucket: bucket, key: "manifest.json", bytes: Array("v3".utf8), ifMatch: first) }
        XCTAssertEqual(stale?.kind, .preconditionFailed)
        XCTAssertEqual(try client.getObject(bucket: bucket, key: "manifest.json", maxBytes: 10)?.bytes, Array("v2".utf8))
        let gone = s3Error { _ = try client.putObject(bucket: bucket, key: "absent.json", bytes: [1], ifMatch: second) }
        XCTAssertEqual(gone?.kind, .preconditionFailed, "If-Match on a missing key is a refused condition")
    }

    func testListPaginatesPastAThousandKeysAndGroupsByDelimiter() throws {
        // 1,005 keys under data/, across three "directories", plus one outside the prefix.
        var expected: [String] = []
        for index in 0..<1005 {
            let key = "data/part=\(index % 3)/file-\(String(format: "%04d", index)).csv"
            expected.append(key)
            _ = try client.putObject(bucket: bucket, key: key, bytes: Array(String(index).utf8))
        }
        _ = try client.putObject(bucket: bucket, key: "other/x", bytes: [1])
        let listed = try client.list(bucket: bucket, prefix: "data/")
        XCTAssertEqual(listed.objects.map(\.key).sorted(), expected.sorted())
        XCTAssertEqual(listed.objects.first { $0.key == "data/part=1/file-1000.csv" }?.size, 4)
        XCTAssertEqual(listed.prefixes, [])

        let grouped = try client.list(bucket: bucket, prefix: "data/", delimiter: "/")
        XCTAssertEqual(grouped.objects, [])
        XCTAssertEqual(grouped.prefixes.sorted(), ["data/part=0/", "data/part=1/", "data/part=2/"])

        try client.deleteObjects(bucket: bucket, keys: expected + ["never-existed"])
        XCTAssertEqual(try client.list(bucket: bucket, prefix: "").objects.map(\.key), ["other/x"])
        XCTAssertNoThrow(try client.deleteObjects(bucket: bucket, keys: []))
    }
}

/// Failures gathered from several threads.
private final class FailureList: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [String] = []
    func append(_ item: String) { lock.withLock { items.append(item) } }
    var all: [String] { lock.withLock { items } }
}
