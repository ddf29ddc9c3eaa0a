import Foundation
import XCTest

/// social_elt the way seed 004 runs it: silver and gold as Parquet (`--param lake_format=parquet`), the warehouse
/// in DuckDB. Its gold tables equal those of the CSV run on SQLite row for row (which SocialEltTests checks
/// against values computed from the raw tables), each read with its own engine's CLI.
final class SocialEltParquetTests: PostgresTestCase {
    func testSocialEltWithParquetSilverOnDuckDBEqualsTheSQLiteRunRowForRow() throws {
        let duckdb = try DuckDBWarehouseEndToEndTests.requireDuckDB()
        let repository = ShopLakeTests.repository
        let seedFolder = try Harness()
        try seedSocialSource(users: 80, out: seedFolder.path("social"))

        let onSQLite = try Harness(), onParquet = try Harness()
        let warehouse = onParquet.root.appendingPathComponent("analytics.duckdb").path
        onParquet.extraEnvironment["ORCHESTRATOR_WAREHOUSE"] = "duckdb://\(warehouse)"
        onParquet.extraEnvironment["ORCHESTRATOR_DUCKDB"] = duckdb
        // load.postgres publishes the Parquet gold too (through a CSV copy).
        onParquet.extraEnvironment["ORCHESTRATOR_CONN_REPORTING_DB"] = databaseURL
        let dags = repository.appendingPathComponent("dags")
        let dagText = try String(contentsOf: dags.appendingPathComponent("social_elt.yaml"), encoding: .utf8)
            .replacingOccurrences(of: "retries: 2", with: "retries: 0")
        for (h, format) in [(onSQLite, "csv"), (onParquet, "parquet")] {
            h.extraEnvironment["ORCHESTRATOR_CONN_SOCIAL_DB"] = databaseURL
            try FileManager.default.copyItem(at: dags.appendingPathComponent("social_elt"), to: h.dags.appendingPathComponent("social_elt"))
            try h.writeDag("social_elt", dagText)
            let backfill = try h.run(["backfill", "social_elt", "--start", "2024-06-01", "--end", "2024-06-02", "--param", "lake_format=\(format)"],
                                     timeout: 300)
            let goldLog = try h.run(["logs", "social_elt", "gold", "--date", "2024-06-01"]).stdout
                + (try h.run(["logs", "social_elt", "publish", "--date", "2024-06-01"]).stdout)
            XCTAssertEqual(backfill.status, 0, backfill.stderr + goldLog)
        }
        let lake = onParquet.home.appendingPathComponent("lake")
        for table in ["silver/users", "silver/user_session_events", "gold/global_user_activity_per_day", "gold/global_notif_impact_per_day"] {
            let names = try FileManager.default.contentsOfDirectory(atPath: lake.appendingPathComponent("\(table)/ds=2024-06-02").path)
            XCTAssertTrue(names.contains("data.parquet") && !names.contains("data.csv"), "\(table): \(names)")
        }
        // The ids are UUIDs in Parquet, not text.
        let users = lake.appendingPathComponent("silver/users/ds=2024-06-02/data.parquet").path
        let described = try DuckDBWarehouseEndToEndTests.cli(duckdb, ["-csv", ":memory:"], sql: "SELECT column_type FROM (DESCRIBE SELECT id FROM '\(users)');")
        XCTAssertEqual(described, "column_type\nUUID\n")
        try ParquetEndToEndTests.assertSameTables(["global_user_activity_per_day", "global_notif_impact_per_day"],
                                                  sqlite: onSQLite.home.appendingPathComponent("warehouse.db").path,
                                                  duckdb: duckdb, warehouse: warehouse, minimumRows: 11)
        for table in ["global_user_activity_per_day", "global_notif_impact_per_day"] {
            let inDuckDB = try DuckDBWarehouseEndToEndTests.cli(duckdb, ["-csv", "-noheader", "-readonly", warehouse], sql: "SELECT count(*) FROM \(table);")
            XCTAssertEqual(try psql(databaseURL, "SELECT COUNT(*) FROM reporting.\(table)"), inDuckDB.trimmingCharacters(in: .whitespacesAndNewlines), table)
        }
        let spent = try DuckDBWarehouseEndToEndTests.cli(duckdb, ["-csv", "-noheader", "-readonly", warehouse],
                                                         sql: "SELECT CAST(ROUND(SUM(total_money_spend), 2) AS DECIMAL(18, 2)) FROM global_user_activity_per_day;")
        XCTAssertEqual(try psql(databaseURL, "SELECT ROUND(SUM(total_money_spend)::numeric, 2) FROM reporting.global_user_activity_per_day"),
                       spent.trimmingCharacters(in: .whitespacesAndNewlines))
    }
}
