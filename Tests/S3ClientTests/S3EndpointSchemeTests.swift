import Foundation
@testable import S3Client
import XCTest

/// The client speaks HTTP(S) only: a file:// (or any other) endpoint is refused in one clear line, and libcurl
/// itself refuses another protocol even when a URL reaches it.
final class S3EndpointSchemeTests: XCTestCase {
    private let credentials = S3Credentials(accessKeyId: "AKIDSCHEME", secretAccessKey: "scheme-secret-7Qx")

    func testAFileEndpointIsRefusedInOneClearLine() {
        for endpoint in ["file:///etc", "FILE:///etc", "gopher://127.0.0.1:70"] {
            XCTAssertThrowsError(try S3Client(S3Configuration(endpoint: endpoint, credentials: credentials))) { error in
                let line = "\(error)"
                XCTAssertFalse(line.contains("\n"), line)
                XCTAssertTrue(line.contains("the endpoint must start with http:// or https://"), line)
                XCTAssertFalse(line.contains("scheme-secret-7Qx"), line)
            }
        }
    }

    func testLibcurlRefusesAFileURLEvenPastTheEndpointCheck() throws {
        let marker = NSTemporaryDirectory() + "s3-scheme-\(UUID().uuidString).txt"
        try "not for S3".write(toFile: marker, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: marker) }
        var configuration = S3Configuration(endpoint: "http://127.0.0.1:1", credentials: credentials)
        configuration.maxAttempts = 1
        let transport = S3Transport(configuration: configuration, credentials: credentials)
        XCTAssertThrowsError(try transport.send(S3Request(method: "GET", url: "file://" + marker, operation: "GET s3://b/k"))) { error in
            XCTAssertFalse("\(error)".contains("not for S3"), "\(error)")
            XCTAssertTrue("\(error)".lowercased().contains("protocol"), "\(error)")
        }
    }
}
