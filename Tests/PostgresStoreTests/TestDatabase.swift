import Foundation
import PostgresClient
import XCTest

/// A fresh schema on the server scripts/test starts (ORCHESTRATOR_TEST_POSTGRES), dropped when the test ends: each test
/// gets an empty store. Missing, the test is skipped, or fails under ORCHESTRATOR_TEST_STRICT=1.
final class TestDatabase {
    let serverURL: String
    let schema: String
    /// The server URL with `search_path` set to the schema, as a store URL.
    let url: String

    init() throws {
        guard let server = ProcessInfo.processInfo.environment["ORCHESTRATOR_TEST_POSTGRES"], !server.isEmpty else {
            if ProcessInfo.processInfo.environment["ORCHESTRATOR_TEST_STRICT"] == "1" {
                XCTFail("ORCHESTRATOR_TEST_POSTGRES is not set: scripts/test should have started PostgreSQL")
            }
            throw XCTSkip("ORCHESTRATOR_TEST_POSTGRES is not set")
        }
        serverURL = server
        schema = "test_\(getpid())_\(UInt32.random(in: 0...UInt32.max))"
        try PostgresConnection(url: server).execute("CREATE SCHEMA \(schema)")
        url = server + (server.contains("?") ? "&" : "?") + "options=-csearch_path%3D\(schema)"
    }

    /// A connection to the test schema, to look at what the store wrote.
    func connect() throws -> PostgresConnection { try PostgresConnection(url: url) }

    deinit { try? PostgresConnection(url: serverURL).execute("DROP SCHEMA IF EXISTS \(schema) CASCADE") }
}
