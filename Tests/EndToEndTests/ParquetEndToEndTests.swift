import Foundation
import XCTest

/// The lake in Parquet end to end: shop_lake with silver and gold as Parquet (the DAG's param `lake_format`) and a
/// DuckDB warehouse equals the CSV run on SQLite row for row, each read with its own engine's CLI; and a task
/// killed with SIGKILL in the middle of a Parquet publish leaves the previous partition readable.
final class ParquetEndToEndTests: XCTestCase {
    static let days = ["2024-03-01", "2024-03-02", "2024-03-03"]

    func testShopLakeWithParquetSilverOnDuckDBEqualsTheCSVRunOnSQLite() throws {
        let duckdb = try DuckDBWarehouseEndToEndTests.requireDuckDB()
        let onSQLite = try ShopLakeTests.makeHarness(days: 3)
        let onParquet = try ShopLakeTests.makeHarness(days: 3)
        let warehouse = onParquet.root.appendingPathComponent("analytics.duckdb").path
        onParquet.extraEnvironment["ORCHESTRATOR_WAREHOUSE"] = "duckdb://\(warehouse)"
        onParquet.extraEnvironment["ORCHESTRATOR_DUCKDB"] = duckdb
        // The DAG-wide default, as a DAG declares it (and `--param lake_format=csv` would switch a run back).
        let dagFile = onParquet.dags.appendingPathComponent("shop_lake.yaml")
        let dagText = try String(contentsOf: dagFile, encoding: .utf8)
        XCTAssertTrue(dagText.contains("params: { source_dir: ../data/shop }"))
        try dagText.replacingOccurrences(of: "params: { source_dir: ../data/shop }", with: "params: { source_dir: ../data/shop, lake_format: parquet }")
            .write(to: dagFile, atomically: true, encoding: .utf8)
        for h in [onSQLite, onParquet] {
            let backfill = try h.run(["backfill", "shop_lake", "--start", Self.days[0], "--end", Self.days[2]], timeout: 300)
            let goldLog = try h.run(["logs", "shop_lake", "gold", "--date", Self.days[0]]).stdout
            XCTAssertEqual(backfill.status, 0, backfill.stderr + goldLog)
        }
        let lake = onParquet.home.appendingPathComponent("lake")
        for table in ["silver/clients", "silver/purchases", "gold/fact_sales", "gold/client_kpis"] {
            for day in Self.days {
                let names = try FileManager.default.contentsOfDirectory(atPath: lake.appendingPathComponent("\(table)/ds=\(day)").path)
                XCTAssertTrue(names.contains("data.parquet") && !names.contains("data.csv"), "\(table) \(day): \(names)")
            }
        }
        // gold.sql read the Parquet silver in place: no silver table was copied into the work database.
        let goldLog = try onParquet.run(["logs", "shop_lake", "gold", "--date", Self.days[2]]).stdout
        XCTAssertTrue(goldLog.contains("staged silver_purchases (a view over 3 Parquet partitions, read in place"), goldLog)
        try Self.assertSameTables(DuckDBWarehouseEndToEndTests.tables, sqlite: onSQLite.home.appendingPathComponent("warehouse.db").path,
                                  duckdb: duckdb, warehouse: warehouse, minimumRows: 1)
        // An analyst reads the lake with DuckDB's CLI: every silver day of a table at once.
        let glob = lake.appendingPathComponent("silver/purchases").path + "/ds=*/data.parquet"
        let counted = try DuckDBWarehouseEndToEndTests.cli(duckdb, ["-csv", ":memory:"],
                                                           sql: "SELECT count(DISTINCT ds) AS days FROM read_parquet('\(glob)', hive_partitioning = true);")
        XCTAssertEqual(counted, "days\n3\n")
        let quality = try onParquet.run(["logs", "shop_lake", "quality", "--date", Self.days[2]]).stdout
        XCTAssertTrue(quality.contains("quality.check: 13 tests, all passed or warned"), quality)
    }

    /// Each table of the SQLite warehouse (CSV lake) and of the DuckDB one (Parquet lake), read with its own
    /// engine's CLI: the same columns in the same order, and the same rows (numbers in one canonical form).
    static func assertSameTables(_ tables: [String], sqlite: String, duckdb: String, warehouse: String, minimumRows: Int,
                                 file: StaticString = #filePath, line: UInt = #line) throws {
        for table in tables {
            let fromSQLite = try DuckDBWarehouseEndToEndTests.cli("/usr/bin/sqlite3", ["-csv", "-header", sqlite], sql: "SELECT * FROM \(table);")
            let fromDuckDB = try DuckDBWarehouseEndToEndTests.cli(duckdb, ["-csv", "-readonly", warehouse], sql: "SELECT * FROM \(table);")
            XCTAssertEqual(fromSQLite.prefix { $0 != "\n" }, fromDuckDB.prefix { $0 != "\n" }, table, file: file, line: line)
            let left = DuckDBWarehouseEndToEndTests.canonicalRows(fromSQLite), right = DuckDBWarehouseEndToEndTests.canonicalRows(fromDuckDB)
            XCTAssertGreaterThanOrEqual(left.count, minimumRows, table, file: file, line: line)
            XCTAssertEqual(left.count, right.count, table, file: file, line: line)
            for (a, b) in zip(left, right) where a != b { XCTFail("\(table): SQLite/CSV \(a) ≠ DuckDB/Parquet \(b)", file: file, line: line); break }
        }
    }

    /// The process group of `pid`'s first child named `duckdb`, polled until it appears (or nil after `timeout`).
    static func waitForDuckDBChild(of pid: Int32, timeout: TimeInterval) -> Int32? {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
                guard let child = Int32(entry), let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                      let open = stat.firstIndex(of: "("), let close = stat.lastIndex(of: ")") else { continue }
                let name = stat[stat.index(after: open)..<close]
                let fields = stat[stat.index(close, offsetBy: 2)...].split(separator: " ")
                if name == "duckdb", fields.count > 1, Int32(fields[1]) == pid { return child }
            }
            usleep(2_000)
        }
        return nil
    }

    /// SIGKILL to silver.clean's process group while DuckDB writes the new day's data.parquet: the partition keeps
    /// its previous content, readable by DuckDB's CLI, and a new run publishes the new day whole.
    func testAKill9DuringAParquetPublishLeavesThePreviousPartitionReadable() throws {
        let duckdb = try DuckDBWarehouseEndToEndTests.requireDuckDB()
        let h = try Harness()
        try "tables:\n  events:\n    format: parquet\n    columns:\n      - { name: id, type: int, required: true }\n      - { name: label, type: string }\n      - { name: at, type: timestamp }\n"
            .write(toFile: h.path("rules.yaml"), atomically: true, encoding: .utf8)
        let bronze = h.home.appendingPathComponent("lake/bronze/src/events/ds=2024-03-01")
        try FileManager.default.createDirectory(at: bronze, withIntermediateDirectories: true)
        func writeBronze(rows: Int, label: String) throws {
            var text = "id,label,at\n"
            text.reserveCapacity(rows * 40)
            for index in 1...rows { text += "\(index),\(label)-\(index % 977),2024-03-01T\(String(format: "%02d", index % 24)):00:00Z\n" }
            try text.write(to: bronze.appendingPathComponent("events.csv"), atomically: true, encoding: .utf8)
        }
        func transform() throws -> Process {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: Harness.orchestrator)
            process.arguments = ["transform", "silver.clean", "--with", #"{"rules": "rules.yaml", "source": "src"}"#]
            process.currentDirectoryURL = h.root
            process.environment = h.environment.merging([
                "ORCHESTRATOR_DS": "2024-03-01", "ORCHESTRATOR_DAG_ID": "kill", "ORCHESTRATOR_DUCKDB": duckdb,
                "ORCHESTRATOR_DATA_INTERVAL_START": "2024-03-01T00:00:00Z", "ORCHESTRATOR_DATA_INTERVAL_END": "2024-03-02T00:00:00Z",
            ]) { $1 }
            process.standardOutput = FileHandle.nullDevice
            try process.run()
            return process
        }
        let data = h.home.appendingPathComponent("lake/silver/events/ds=2024-03-01/data.parquet").path
        let count = "SELECT count(*) AS n, min(label) AS label FROM '\(data)';"
        try writeBronze(rows: 1_000, label: "old")
        let first = try transform()
        first.waitUntilExit()
        XCTAssertEqual(first.terminationStatus, 0)
        XCTAssertEqual(try DuckDBWarehouseEndToEndTests.cli(duckdb, ["-csv", ":memory:"], sql: count), "n,label\n1000,old-0\n")

        try writeBronze(rows: 400_000, label: "new")
        let second = try transform()
        let child = Self.waitForDuckDBChild(of: second.processIdentifier, timeout: 120)
        XCTAssertNotNil(child, "silver.clean never started DuckDB")
        kill(-second.processIdentifier, SIGKILL)  // the task's group: the transform and DuckDB with it
        second.waitUntilExit()
        XCTAssertEqual(second.terminationReason, .uncaughtSignal)
        if let child {
            // Gone, or a zombie waiting for whoever adopted it.
            let deadline = Date().addingTimeInterval(10)
            func alive() -> Bool {
                guard let stat = try? String(contentsOfFile: "/proc/\(child)/stat", encoding: .utf8), let close = stat.lastIndex(of: ")") else { return false }
                return !stat[stat.index(close, offsetBy: 2)...].hasPrefix("Z")
            }
            while alive() && Date() < deadline { usleep(20_000) }
            XCTAssertFalse(alive(), "DuckDB died with its task")
        }
        XCTAssertEqual(try DuckDBWarehouseEndToEndTests.cli(duckdb, ["-csv", ":memory:"], sql: count), "n,label\n1000,old-0\n",
                       "the previous partition is whole and readable")
        let staging = h.home.appendingPathComponent("lake/.staging").path
        XCTAssertFalse(((try? FileManager.default.contentsOfDirectory(atPath: staging)) ?? []).isEmpty, "the killed publish left its staging (for lake gc)")

        let third = try transform()
        third.waitUntilExit()
        XCTAssertEqual(third.terminationStatus, 0)
        XCTAssertEqual(try DuckDBWarehouseEndToEndTests.cli(duckdb, ["-csv", ":memory:"], sql: count), "n,label\n400000,new-0\n")
    }
}
