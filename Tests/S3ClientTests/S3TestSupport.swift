import Foundation
import S3Client
import XCTest

/// The moto server scripts/test starts (ORCHESTRATOR_TEST_S3_ENDPOINT), and a fresh bucket per test.
enum S3TestServer {
    static var endpoint: String? { ProcessInfo.processInfo.environment["ORCHESTRATOR_TEST_S3_ENDPOINT"].flatMap { $0.isEmpty ? nil : $0 } }
    /// moto accepts any key pair; ORCHESTRATOR_TEST_S3_ACCESS_KEY_ID/_SECRET_ACCESS_KEY point the suite at a real
    /// MinIO (or a moto with authentication on) instead.
    static let credentials: S3Credentials = {
        let environment = ProcessInfo.processInfo.environment
        return S3Credentials(accessKeyId: environment["ORCHESTRATOR_TEST_S3_ACCESS_KEY_ID"] ?? "testing",
                             secretAccessKey: environment["ORCHESTRATOR_TEST_S3_SECRET_ACCESS_KEY"] ?? "testing-secret-Zq8wT")
    }()

    /// The endpoint, or a skip (a failure under ORCHESTRATOR_TEST_STRICT=1, where scripts/test must have started it).
    static func requireEndpoint() throws -> String {
        if let endpoint { return endpoint }
        if ProcessInfo.processInfo.environment["ORCHESTRATOR_TEST_STRICT"] == "1" {
            XCTFail("ORCHESTRATOR_TEST_S3_ENDPOINT is not set (scripts/test starts a moto server)")
        }
        throw XCTSkip("no S3 test server: set ORCHESTRATOR_TEST_S3_ENDPOINT (scripts/test does)")
    }

    static func configuration(endpoint: String, credentials: S3Credentials = credentials) -> S3Configuration {
        var configuration = S3Configuration(endpoint: endpoint, credentials: credentials)
        configuration.retryBaseDelay = 0.05
        configuration.retryMaxDelay = 0.5
        configuration.connectTimeout = 2
        configuration.requestTimeout = 30
        return configuration
    }

    static func uniqueBucket() -> String { "t-" + UUID().uuidString.lowercased().prefix(18) }
}

/// A fresh temporary directory per test, removed afterwards.
final class TemporaryDirectory {
    let path: String

    init() throws {
        path = NSTemporaryDirectory() + "s3client-tests-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    func file(_ name: String) -> String { "\(path)/\(name)" }
}

/// Runs a program and returns its standard output (the tests compute expected values with other tools).
func runTool(_ executable: String, _ arguments: [String], environment: [String: String]? = nil) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    if let environment { process.environment = environment }
    let output = Pipe()
    process.standardOutput = output
    try process.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return String(decoding: data, as: UTF8.self)
}

/// SHA-256 by coreutils, independent of the code under test.
func sha256sum(_ path: String) throws -> String {
    String(try runTool("/usr/bin/sha256sum", [path]).prefix(64))
}

/// A file of `size` pseudo-random bytes (deterministic per seed), written in 1 MiB chunks.
func writeRandomFile(_ path: String, size: Int, seed: UInt64) throws {
    _ = FileManager.default.createFile(atPath: path, contents: nil)
    let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
    defer { try? handle.close() }
    var state = seed
    var remaining = size
    var chunk = [UInt8](repeating: 0, count: 1 << 20)
    while remaining > 0 {
        let count = min(remaining, chunk.count)
        for index in stride(from: 0, to: count, by: 8) {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            z ^= z >> 31
            for byte in 0..<min(8, count - index) { chunk[index + byte] = UInt8(truncatingIfNeeded: z >> (8 * UInt64(byte))) }
        }
        try handle.write(contentsOf: chunk[0..<count])
        remaining -= count
    }
}

/// The S3Error a throwing expression threw, or a failure.
func s3Error(_ body: () throws -> Void, file: StaticString = #filePath, line: UInt = #line) -> S3Error? {
    do {
        try body()
        XCTFail("expected an S3Error", file: file, line: line)
    } catch let error as S3Error {
        return error
    } catch {
        XCTFail("expected an S3Error, got \(error)", file: file, line: line)
    }
    return nil
}
