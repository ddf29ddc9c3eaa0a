import Foundation
import XCTest

/// social_elt with a DuckDB warehouse: the same seeded PostgreSQL source, run once on SQLite and once on DuckDB
/// (whose model variants replace julianday()); both gold tables equal row for row, each read with its own
/// engine's CLI.
final class SocialEltDuckDBTests: PostgresTestCase {
    func testSocialEltOnADuckDBWarehouseEqualsTheSQLiteRunRowForRow() throws {
        let duckdb = try DuckDBWarehouseEndToEndTests.requireDuckDB()
        let repository = ShopLakeTests.repository
        let seedFolder = try Harness()
        try seedSocialSource(users: 80, out: seedFolder.path("social"))

        let onSQLite = try Harness(), onDuckDB = try Harness()
        let warehouse = onDuckDB.root.appendingPathComponent("analytics.duckdb").path
        onDuckDB.extraEnvironment["ORCHESTRATOR_WAREHOUSE"] = "duckdb://\(warehouse)"
        onDuckDB.extraEnvironment["ORCHESTRATOR_DUCKDB"] = duckdb
        let dags = repository.appendingPathComponent("dags")
        let dagText = try String(contentsOf: dags.appendingPathComponent("social_elt.yaml"), encoding: .utf8)
            .replacingOccurrences(of: "retries: 2", with: "retries: 0")
        for h in [onSQLite, onDuckDB] {
            h.extraEnvironment["ORCHESTRATOR_CONN_SOCIAL_DB"] = databaseURL
            try FileManager.default.copyItem(at: dags.appendingPathComponent("social_elt"), to: h.dags.appendingPathComponent("social_elt"))
            try h.writeDag("social_elt", dagText)
            let backfill = try h.run(["backfill", "social_elt", "--start", "2024-06-01", "--end", "2024-06-02"], timeout: 300)
            let goldLog = try h.run(["logs", "social_elt", "gold", "--date", "2024-06-01"]).stdout
            XCTAssertEqual(backfill.status, 0, backfill.stderr + goldLog)
        }
        let sqlite = onSQLite.home.appendingPathComponent("warehouse.db").path
        for table in ["global_user_activity_per_day", "global_notif_impact_per_day"] {
            let fromSQLite = try DuckDBWarehouseEndToEndTests.cli("/usr/bin/sqlite3", ["-csv", "-header", sqlite], sql: "SELECT * FROM \(table);")
            let fromDuckDB = try DuckDBWarehouseEndToEndTests.cli(duckdb, ["-csv", "-readonly", warehouse], sql: "SELECT * FROM \(table);")
            XCTAssertEqual(fromSQLite.prefix { $0 != "\n" }, fromDuckDB.prefix { $0 != "\n" }, table)
            let left = DuckDBWarehouseEndToEndTests.canonicalRows(fromSQLite), right = DuckDBWarehouseEndToEndTests.canonicalRows(fromDuckDB)
            XCTAssertGreaterThan(left.count, 10, table)
            XCTAssertEqual(left.count, right.count, table)
            for (a, b) in zip(left, right) where a != b { XCTFail("\(table): SQLite \(a) ≠ DuckDB \(b)"); break }
        }
    }
}
