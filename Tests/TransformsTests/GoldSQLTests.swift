import Foundation
import SQLiteDirect
@testable import Transforms
import XCTest

final class GoldSQLTests: XCTestCase {
    /// A model that writes no row for a day whose silver input has rows is reported in the log and the result file.
    func testEmptyGoldIsReported() throws {
        let folder = try TemporaryDirectory()
        try folder.write("rules.yaml", "tables:\n  sales:\n    columns:\n      - { name: id, type: string, required: true }\n")
        try FileManager.default.createDirectory(atPath: folder.file("lake/bronze/shop/sales/ds=2024-01-01"), withIntermediateDirectories: true)
        try folder.write("lake/bronze/shop/sales/ds=2024-01-01/sales.csv", "id\nA1\nA2\n")
        try FileManager.default.createDirectory(atPath: folder.file("models"), withIntermediateDirectories: true)
        try folder.write("models/daily.sql", "-- materialized: partition\nSELECT id FROM silver_sales WHERE ds = '{{ ds }}' AND id = 'none'")
        try folder.write("models/all_sales.sql", "SELECT id FROM silver_sales WHERE ds <= {{ ds }}")
        let context = TransformContext(
            dagId: "d", taskId: "t", runId: "r", ds: "2024-01-01", dataIntervalStart: Date(timeIntervalSince1970: 1_704_067_200),
            dataIntervalEnd: Date(timeIntervalSince1970: 1_704_153_600), folder: folder.path, home: folder.path,
            lake: LocalLake(root: folder.file("lake")), warehouse: "sqlite://\(folder.file("warehouse.db"))",
            workDatabase: folder.file("work.db"), connections: Connections(environment: [:]), log: TransformLog())
        try SilverClean.run(try TransformOptions(operation: "silver.clean", json: #"{"rules": "rules.yaml", "source": "shop"}"#), context)
        try GoldSQL.run(try TransformOptions(operation: "gold.sql", json: #"{"models": "models", "silver": ["sales"]}"#), context)
        let problems = context.results.problemList
        XCTAssertEqual(problems.count, 1, "\(problems)")
        XCTAssertEqual(problems.first?["kind"] as? String, "empty_gold")
        XCTAssertEqual(problems.first?["severity"] as? String, "warning")
        XCTAssertEqual(problems.first?["message"] as? String,
                       "gold.sql: model daily wrote 0 rows for ds=2024-01-01 although its silver input (silver_sales) has 2 rows that day")
        let db = try SQLiteDatabase(path: folder.file("work.db"))
        XCTAssertEqual(try db.prepare("SELECT COUNT(*) FROM all_sales").allRows(), [["2"]], "the bound ds reached the full model")
    }

    /// The check weighs each model against the tables it reads (directly or through ref()), not all staged silver.
    func testEmptyGoldComparesWithTheModelsOwnInputs() throws {
        let folder = try TemporaryDirectory()
        try folder.write("rules.yaml", """
            tables:
              sales:
                columns:
                  - { name: id, type: string, required: true }
              returns:
                allow_empty: true
                columns:
                  - { name: id, type: string, required: true }
            """)
        for (table, text) in [("sales", "id\nA1\nA2\nA3\n"), ("returns", "id\n")] {
            try FileManager.default.createDirectory(atPath: folder.file("lake/bronze/shop/\(table)/ds=2024-01-01"), withIntermediateDirectories: true)
            try folder.write("lake/bronze/shop/\(table)/ds=2024-01-01/\(table).csv", text)
        }
        try FileManager.default.createDirectory(atPath: folder.file("models"), withIntermediateDirectories: true)
        // No return today: 0 rows is right, and silver_sales' 3 rows have nothing to do with it.
        try folder.write("models/daily_returns.sql", "-- materialized: partition\nSELECT id FROM SILVER_RETURNS WHERE ds = {{ ds }}")
        // Reads silver_sales, but its filter drops every row; `silver_sales_x` in a comment names no input.
        try folder.write("models/daily_sales.sql", "-- materialized: partition\n-- not silver_sales_x\nSELECT id FROM silver_sales WHERE ds = {{ ds }} AND id = 'none'")
        // Reads silver_sales through daily_sales.
        try folder.write("models/sales_summary.sql", "SELECT COUNT(*) AS n FROM {{ ref('daily_sales') }} HAVING COUNT(*) > 0")
        let context = TransformContext(
            dagId: "d", taskId: "t", runId: "r", ds: "2024-01-01", dataIntervalStart: Date(timeIntervalSince1970: 1_704_067_200),
            dataIntervalEnd: Date(timeIntervalSince1970: 1_704_153_600), folder: folder.path, home: folder.path,
            lake: LocalLake(root: folder.file("lake")), warehouse: "sqlite://\(folder.file("warehouse.db"))",
            workDatabase: folder.file("work.db"), connections: Connections(environment: [:]), log: TransformLog())
        try SilverClean.run(try TransformOptions(operation: "silver.clean", json: #"{"rules": "rules.yaml", "source": "shop"}"#), context)
        try GoldSQL.run(try TransformOptions(operation: "gold.sql", json: #"{"models": "models", "silver": ["sales", "returns"]}"#), context)
        let problems = context.results.problemList
        XCTAssertEqual(problems.map { $0["message"] as? String }, [
            "gold.sql: model daily_sales wrote 0 rows for ds=2024-01-01 although its silver input (silver_sales) has 3 rows that day",
            "gold.sql: model sales_summary wrote 0 rows for ds=2024-01-01 although its silver input (silver_sales) has 3 rows that day",
        ])
        XCTAssertEqual((problems.first?["details"] as? [String: Any])?["silver_tables"] as? [String], ["sales"])
    }
}
