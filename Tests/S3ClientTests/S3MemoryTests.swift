import Foundation
import S3Client
import XCTest

/// A large upload and download in a child process whose peak RSS is measured: a client that held a whole body
/// in memory would go over the bound, since the object is larger than the bound.
final class S3MemoryTests: XCTestCase {
    static let childFileVariable = "ORCHESTRATOR_S3_CHILD_FILE"

    func testLargeStreamedTransfersKeepMemoryBounded() throws {
        if ProcessInfo.processInfo.environment[S3MemoryTests.childFileVariable] != nil {
            try S3MemoryTests.transferAsChild()
            return
        }
        let endpoint = try S3TestServer.requireEndpoint()
        let directory = try TemporaryDirectory()
        let source = directory.file("large.bin")
        // scripts/bench-s3 asks for a larger object (ORCHESTRATOR_S3_BENCH_MB) and reads the rates printed below.
        let size = (ProcessInfo.processInfo.environment["ORCHESTRATOR_S3_BENCH_MB"].flatMap { Int($0) } ?? 200) << 20
        try writeRandomFile(source, size: size, seed: 11)
        let report = directory.file("report.txt")
        let outcome = try ChildProcess.runTest("S3ClientTests.S3MemoryTests/testLargeStreamedTransfersKeepMemoryBounded",
                                               environment: [S3MemoryTests.childFileVariable: source, "ORCHESTRATOR_S3_CHILD_REPORT": report,
                                                             "ORCHESTRATOR_TEST_S3_ENDPOINT": endpoint],
                                               output: directory.file("child.log"))
        let log = (try? String(contentsOfFile: directory.file("child.log"), encoding: .utf8)) ?? ""
        XCTAssertEqual(outcome.exitStatus, 0, String(log.suffix(2000)))
        let lines = ((try? String(contentsOfFile: report, encoding: .utf8)) ?? "").split(separator: "\n")
        XCTAssertEqual(lines.first.map(String.init), try sha256sum(source), "the child's download differs from the source")
        // The test bundle's child peaks at 45–70 MiB whatever the object's size (measured at 64–320 MiB); a client
        // holding the 200 MiB body would pass 245 MiB.
        XCTAssertLessThan(outcome.peakResidentBytes, 128 << 20, "peak RSS \(outcome.peakResidentBytes >> 20) MiB for a \(size >> 20) MiB object")
        print("S3 streamed \(size >> 20) MiB: \(lines.dropFirst().joined(separator: ", ")), child peak RSS \(outcome.peakResidentBytes >> 20) MiB")
    }

    /// In the child: upload the file (multipart, 16 MiB parts), download it beside itself, report the download's
    /// SHA-256 and the rates.
    static func transferAsChild() throws {
        let environment = ProcessInfo.processInfo.environment
        let source = try XCTUnwrap(environment[childFileVariable])
        let report = try XCTUnwrap(environment["ORCHESTRATOR_S3_CHILD_REPORT"])
        let client = try S3Client(S3TestServer.configuration(endpoint: try S3TestServer.requireEndpoint()))
        let bucket = S3TestServer.uniqueBucket()
        try client.createBucket(bucket)
        let size = Double(try XCTUnwrap(FileManager.default.attributesOfItem(atPath: source)[.size] as? Int))
        let uploadStart = Date()
        _ = try client.putObject(bucket: bucket, key: "large.bin", fromFile: source)
        let uploadSeconds = Date().timeIntervalSince(uploadStart)
        let target = source + ".download"
        let downloadStart = Date()
        _ = try client.getObject(bucket: bucket, key: "large.bin", toFile: target)
        let downloadSeconds = Date().timeIntervalSince(downloadStart)
        let digest = try sha256sum(target)
        try? FileManager.default.removeItem(atPath: target)
        try client.deleteObjects(bucket: bucket, keys: ["large.bin"])
        let megabytes = size / 1_000_000
        try "\(digest)\nupload \(String(format: "%.0f", megabytes / uploadSeconds)) MB/s\ndownload \(String(format: "%.0f", megabytes / downloadSeconds)) MB/s\n"
            .write(toFile: report, atomically: true, encoding: .utf8)
    }
}
