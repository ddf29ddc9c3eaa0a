import Foundation
import XCTest

extension PostgresTestCase {
    /// Fills the test PostgreSQL with the social app's tables (scripts/seed-social, from 2024-06-01 for two days) and
    /// writes the raw rows it inserted under `out`, from which the tests compute their expected values.
    func seedSocialSource(users: Int, out: String) throws {
        let seed = Process()
        seed.executableURL = ShopLakeTests.repository.appendingPathComponent("scripts/seed-social")
        seed.arguments = ["--url", databaseURL, "--start", "2024-06-01", "--days", "2", "--users", "\(users)", "--out", out]
        seed.environment = ProcessInfo.processInfo.environment.merging(["ORCHESTRATOR_BIN": Harness.orchestrator]) { $1 }
        try seed.run()
        seed.waitUntilExit()
        XCTAssertEqual(seed.terminationStatus, 0, "scripts/seed-social failed")
    }
}
