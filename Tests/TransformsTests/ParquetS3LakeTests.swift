import Foundation
@testable import Transforms
import XCTest

/// Parquet partitions on an S3 lake (the moto server scripts/test starts): files of a version like any other,
/// published by the manifest, and read back through the lake's local copies by gold.sql on DuckDB and the load.
final class ParquetS3LakeTests: XCTestCase {
    func testParquetPartitionsLiveInTheBucketAndReadBackThroughTheLake() throws {
        _ = try DuckDBWarehouseTests.requireDuckDB()
        let folder = try TemporaryDirectory()
        let fixture = try S3LakeFixture(home: folder.path)
        let lake = try fixture.lake()
        func context(_ ds: String) -> TransformContext {
            let start = ISO8601DateFormatter().date(from: "\(ds)T00:00:00Z") ?? Date(timeIntervalSince1970: 0)
            return TransformContext(
                dagId: "d", taskId: "t", runId: "r", ds: ds, dataIntervalStart: start, dataIntervalEnd: start.addingTimeInterval(86_400),
                folder: folder.path, home: folder.path, lake: lake, warehouse: "duckdb://\(folder.file("analytics.duckdb"))",
                workDatabase: folder.file("work/d.db"), connections: Connections(environment: [:]), log: TransformLog())
        }
        try folder.write("rules.yaml", ParquetLakeTests.shopRules)
        try FileManager.default.createDirectory(atPath: folder.file("models"), withIntermediateDirectories: true)
        try folder.write("models/revenue.sql", """
            -- materialized: partition
            SELECT c.country, COUNT(*) AS sales, ROUND(SUM(s.amount), 2) AS revenue
            FROM silver_sales s JOIN silver_clients c ON c.client_id = s.client_id
            WHERE s.ds = {{ ds }} GROUP BY c.country
            """)
        let days = ["2024-01-01": ("client_id,country\nC1,FR\nC2,DE\n", "client_id,amount,at\nC1,10.5,2024-01-01T10:00:00Z\nC2,2,2024-01-01T11:00:00Z\n"),
                    "2024-01-02": ("client_id,country\nC3,ES\n", "client_id,amount,at\nC1,1.25,2024-01-02T00:30:00Z\nC3,4,2024-01-02T23:59:59Z\n")]
        for (ds, (clients, sales)) in days.sorted(by: { $0.key < $1.key }) {
            for (table, csv) in [("clients", clients), ("sales", sales)] {
                let staging = try lake.stage(try LakePartition(table: "bronze/src/\(table)", ds: ds))
                try csv.write(toFile: staging.path("\(table).csv"), atomically: true, encoding: .utf8)
                try lake.publish(staging)
            }
            try SilverClean.run(try TransformOptions(operation: "silver.clean", json: #"{"rules": "rules.yaml", "source": "src", "format": "parquet"}"#), context(ds))
            try GoldSQL.run(try TransformOptions(operation: "gold.sql", json: #"{"models": "models", "silver": ["clients", "sales"], "format": "parquet"}"#), context(ds))
            try LoadWarehouse.run(try TransformOptions(operation: "load.warehouse", json: #"{"tables": ["revenue"]}"#), context(ds))
        }
        let keys = try fixture.keys()
        for table in ["silver/sales", "silver/clients", "gold/revenue"] {
            let version = try XCTUnwrap(try fixture.currentVersion("\(table)/ds=2024-01-02"), table)
            XCTAssertTrue(keys.contains("lake/_versions/\(table)/ds=2024-01-02/\(version)/data.parquet"), "\(table): \(keys)")
            XCTAssertFalse(keys.contains("lake/_versions/\(table)/ds=2024-01-02/\(version)/data.csv"), table)
        }
        XCTAssertTrue(keys.contains { $0.hasPrefix("lake/_versions/silver/sales/ds=2024-01-02/") && $0.hasSuffix("/rejects.csv") })
        let loaded = try DuckDBCLI(executable: try DuckDBCLI.locate(), database: folder.file("analytics.duckdb"))
            .run("SELECT ds, country, sales, revenue FROM revenue ORDER BY ds, country;\n")
        XCTAssertEqual(loaded, "ds,country,sales,revenue\n2024-01-01,DE,1,2.0\n2024-01-01,FR,1,10.5\n2024-01-02,ES,1,4.0\n2024-01-02,FR,1,1.25\n")
        XCTAssertEqual(try fixture.leftovers(), [], "no staging or stray version left")
    }
}
