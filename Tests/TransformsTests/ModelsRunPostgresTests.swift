import Foundation
@testable import Transforms
import XCTest

/// The same project on PostgreSQL (the server scripts/test and targeted.sh start), in a schema of its own.
final class ModelsRunPostgresTests: ModelsRunTests {
    var schemaURL: String?

    override func targetURL() throws -> String {
        if let schemaURL { return schemaURL }
        guard let base = ProcessInfo.processInfo.environment["ORCHESTRATOR_TEST_POSTGRES"] else {
            if ProcessInfo.processInfo.environment["ORCHESTRATOR_TEST_STRICT"] == "1" { XCTFail("ORCHESTRATOR_TEST_POSTGRES is not set") }
            throw XCTSkip("ORCHESTRATOR_TEST_POSTGRES is not set")
        }
        // A database per test, so tests stay independent.
        let name = "models_\(UUID().uuidString.prefix(8).lowercased())"
        let admin = try PostgresConnection(url: base)
        try admin.execute("CREATE DATABASE \(name)")
        guard let slash = base.range(of: "/", options: .backwards), !base.contains("?") else { throw XCTSkip("unexpected server URL form") }
        let url = String(base[..<slash.lowerBound]) + "/\(name)"
        schemaURL = url
        return url
    }
}

extension ModelsRunPostgresTests {
    /// Declared here so that test discovery finds the subclass (it lists classes by their own test methods).
    func testTheTargetIsPostgreSQL() throws {
        let engine = try ModelsRun.openTarget("target", context: try context(ds: "2024-01-01"))
        XCTAssertEqual(engine.engine, "postgres")
    }
}
