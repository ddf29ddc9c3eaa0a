import Foundation
import MetadataStore
import PostgresAttemptStore
import PostgresClient
import PostgresStore
import StoreAddress
import WorkerCore
import XCTest

/// The conformance suite on PostgreSQL: each test gets a schema of its own on the server scripts/test starts
/// (ORCHESTRATOR_TEST_POSTGRES), reached through `search_path` in the store URL, dropped afterwards.
final class PostgresStoreConformanceTests: StoreConformanceTests {
    private var serverURL: String?
    private var schema = ""
    private var storeURL = ""

    override func setUpWithError() throws {
        guard let server = ProcessInfo.processInfo.environment["ORCHESTRATOR_TEST_POSTGRES"], !server.isEmpty else {
            if ProcessInfo.processInfo.environment["ORCHESTRATOR_TEST_STRICT"] == "1" {
                XCTFail("ORCHESTRATOR_TEST_POSTGRES is not set: scripts/test should have started PostgreSQL")
            }
            throw XCTSkip("ORCHESTRATOR_TEST_POSTGRES is not set")
        }
        serverURL = server
        schema = "conformance_\(getpid())_\(UInt32.random(in: 0...UInt32.max))"
        try PostgresConnection(url: server).execute("CREATE SCHEMA \(schema)")
        storeURL = server + (server.contains("?") ? "&" : "?") + "options=-csearch_path%3D\(schema)"
    }

    override func tearDownWithError() throws {
        if let serverURL { try? PostgresConnection(url: serverURL).execute("DROP SCHEMA IF EXISTS \(schema) CASCADE") }
    }

    override func makeStore() throws -> any MetadataStore { try PostgresMetadataStore(url: storeURL) }
    override func openAgain() throws -> any MetadataStore { try PostgresMetadataStore(url: storeURL) }
    override func makeAttemptStore() throws -> any AttemptStore { try PostgresAttemptStore(url: try StoreURL.parse(storeURL)) }

    func testTheStoreNamesItsServer() throws {
        // The test server's URL has no password, so it is shown as given.
        XCTAssertEqual(try makeStore().location, storeURL)
    }
}
