import Foundation
import PostgresClient
import XCTest

/// The PostgreSQL server scripts/test starts (ORCHESTRATOR_TEST_POSTGRES). Missing, the test is skipped, or fails under
/// ORCHESTRATOR_TEST_STRICT=1.
enum TestServer {
    static func url() throws -> String {
        guard let url = ProcessInfo.processInfo.environment["ORCHESTRATOR_TEST_POSTGRES"], !url.isEmpty else {
            if ProcessInfo.processInfo.environment["ORCHESTRATOR_TEST_STRICT"] == "1" {
                XCTFail("ORCHESTRATOR_TEST_POSTGRES is not set: scripts/test should have started PostgreSQL")
            }
            throw XCTSkip("ORCHESTRATOR_TEST_POSTGRES is not set")
        }
        return url
    }

    static func connect() throws -> PostgresConnection { try PostgresConnection(url: try url()) }

    /// The server's URL for another user and password (same host, port and database).
    static func url(user: String, password: String) throws -> String {
        let server = try PostgresURL(try url())
        return "postgres://\(user):\(password)@\(server.host):\(server.port)/\(server.database ?? "postgres")"
    }
}
