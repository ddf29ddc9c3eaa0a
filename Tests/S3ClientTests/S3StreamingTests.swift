import Foundation
import S3Client
import XCTest

/// Large objects: multipart upload from a file, streamed download to a file, checked by tools independent of
/// the client (sha256sum, python's hashlib for the multipart ETag).
final class S3StreamingTests: XCTestCase {
    func testLargeFileGoesUpInPartsAndComesBackIdentical() throws {
        let endpoint = try S3TestServer.requireEndpoint()
        var configuration = S3TestServer.configuration(endpoint: endpoint)
        configuration.multipartThreshold = 8 << 20
        configuration.partSize = 5 << 20
        let client = try S3Client(configuration)
        let bucket = S3TestServer.uniqueBucket()
        try client.createBucket(bucket)
        let directory = try TemporaryDirectory()
        let source = directory.file("source.bin")
        let size = (40 << 20) + 123   // 8 full parts of 5 MiB and a short ninth
        try writeRandomFile(source, size: size, seed: 42)

        let etag = try client.putObject(bucket: bucket, key: "lake/big.bin", fromFile: source)
        // A multipart ETag is the MD5 of the parts' binary MD5s, then "-<parts>": only the multipart path yields it.
        let expected = try runTool("/usr/bin/env", ["python3", "-c", """
            import hashlib, sys
            digests = b""
            with open(sys.argv[1], "rb") as f:
                while chunk := f.read(5 << 20):
                    digests += hashlib.md5(chunk).digest()
            print('"%s-%d"' % (hashlib.md5(digests).hexdigest(), len(digests) // 16))
            """, source]).trimmingCharacters(in: .whitespacesAndNewlines)
        XCTAssertEqual(etag, expected)
        XCTAssertTrue(etag.hasSuffix("-9\""), etag)

        let target = directory.file("copy.bin")
        let info = try client.getObject(bucket: bucket, key: "lake/big.bin", toFile: target)
        XCTAssertEqual(info, S3ObjectInfo(key: "lake/big.bin", size: Int64(size), etag: etag))
        XCTAssertEqual(try sha256sum(target), try sha256sum(source))
        XCTAssertEqual(try client.headObject(bucket: bucket, key: "lake/big.bin")?.size, Int64(size))
        // Nothing but the object is left beside the download.
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted(), ["copy.bin", "source.bin"])
    }

    func testSmallFileGoesUpInOnePutAndAFailedDownloadLeavesNothing() throws {
        let endpoint = try S3TestServer.requireEndpoint()
        let client = try S3Client(S3TestServer.configuration(endpoint: endpoint))
        let bucket = S3TestServer.uniqueBucket()
        try client.createBucket(bucket)
        let directory = try TemporaryDirectory()
        let source = directory.file("small.csv")
        try writeRandomFile(source, size: 300_000, seed: 7)
        let etag = try client.putObject(bucket: bucket, key: "small.csv", fromFile: source)
        let md5 = String(try runTool("/usr/bin/md5sum", [source]).prefix(32))
        XCTAssertEqual(etag, "\"\(md5)\"")

        let target = directory.file("missing.bin")
        let error = s3Error { _ = try client.getObject(bucket: bucket, key: "missing", toFile: target) }
        XCTAssertEqual(error?.kind, .noSuchKey)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory.path), ["small.csv"])

        XCTAssertEqual(s3Error { _ = try client.putObject(bucket: bucket, key: "x", fromFile: directory.file("absent")) }?.kind, .localFile)
        XCTAssertEqual(s3Error { _ = try client.putObject(bucket: bucket, key: "x", fromFile: directory.path) }?.kind, .localFile)
    }

    func testConditionalMultipartPut() throws {
        let endpoint = try S3TestServer.requireEndpoint()
        var configuration = S3TestServer.configuration(endpoint: endpoint)
        configuration.multipartThreshold = 1 << 20
        configuration.partSize = 5 << 20
        let client = try S3Client(configuration)
        let bucket = S3TestServer.uniqueBucket()
        try client.createBucket(bucket)
        let directory = try TemporaryDirectory()
        let source = directory.file("part.bin")
        try writeRandomFile(source, size: 6 << 20, seed: 3)
        let first = try client.putObject(bucket: bucket, key: "k", fromFile: source, ifNoneMatch: true)
        XCTAssertTrue(first.hasSuffix("-2\""), first)
        let refused = s3Error { _ = try client.putObject(bucket: bucket, key: "k", fromFile: source, ifNoneMatch: true) }
        XCTAssertEqual(refused?.kind, .preconditionFailed)
        let second = try client.putObject(bucket: bucket, key: "k", fromFile: source, ifMatch: first)
        XCTAssertEqual(s3Error { _ = try client.putObject(bucket: bucket, key: "k", fromFile: source, ifMatch: "\"0123\"") }?.kind,
                       .preconditionFailed)
        XCTAssertEqual(try client.headObject(bucket: bucket, key: "k")?.etag, second)
    }
}
