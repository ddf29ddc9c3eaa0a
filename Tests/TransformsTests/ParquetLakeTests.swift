import Foundation
@testable import Transforms
import XCTest

/// Silver and gold partitions written as Parquet (`format: parquet`), read back by DuckDB's own CLI (not by the
/// library): the column types the rules declare, the values of the raw input, and every reader (gold.sql on
/// SQLite and on DuckDB, the foreign keys, the loads) seeing the same rows as from CSV, day by day in a mixed table.
final class ParquetLakeTests: XCTestCase {
    let ds = "2024-01-02"

    func context(_ folder: TemporaryDirectory, ds: String? = nil, warehouse: String? = nil) -> TransformContext {
        let day = ds ?? self.ds
        let start = ISO8601DateFormatter().date(from: "\(day)T00:00:00Z") ?? Date(timeIntervalSince1970: 0)
        return TransformContext(
            dagId: "d", taskId: "t", runId: "r", ds: day, dataIntervalStart: start, dataIntervalEnd: start.addingTimeInterval(86_400),
            folder: folder.path, home: folder.path, lake: LocalLake(root: folder.file("lake")),
            warehouse: warehouse ?? "sqlite://\(folder.file("warehouse.db"))", workDatabase: folder.file("work/d.db"),
            connections: Connections(environment: [:]), log: TransformLog())
    }

    /// DuckDB's CLI run as a user would: SQL on stdin, CSV out.
    func duckdb(_ sql: String, database: String = ":memory:") throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try DuckDBWarehouseTests.requireDuckDB())
        process.arguments = ["-init", "/dev/null", "-csv", "-nullvalue", "", database]
        let input = Pipe(), output = Pipe(), errors = Pipe()
        (process.standardInput, process.standardOutput, process.standardError) = (input, output, errors)
        try process.run()
        input.fileHandleForWriting.write(Data(("SET TimeZone = 'UTC';\n" + sql).utf8))
        try input.fileHandleForWriting.close()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        let problems = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        XCTAssertEqual(problems, "", sql)
        return String(decoding: data, as: UTF8.self)
    }

    func bronze(_ folder: TemporaryDirectory, table: String, ds: String? = nil, file: String? = nil, _ csv: String) throws {
        let partition = "lake/bronze/src/\(table)/ds=\(ds ?? self.ds)"
        try FileManager.default.createDirectory(atPath: folder.file(partition), withIntermediateDirectories: true)
        try folder.write("\(partition)/\(file ?? "\(table).csv")", csv)
    }

    func clean(_ folder: TemporaryDirectory, ds: String? = nil, options: String = "") throws {
        try SilverClean.run(try TransformOptions(operation: "silver.clean", json: #"{"rules": "rules.yaml", "source": "src"\#(options)}"#),
                            context(folder, ds: ds))
    }

    static let typedRules = """
        tables:
          events:
            format: parquet
            columns:
              - { name: id, type: int, required: true }
              - { name: price, type: decimal, scale: 2 }
              - { name: ratio, type: decimal }
              - { name: active, type: bool }
              - { name: day, type: date, formats: ["%d/%m/%Y"] }
              - { name: at, type: timestamp, timezone: Europe/Paris }
              - { name: user_id, type: uuid }
              - { name: name, type: string }
        """

    /// Each type as the rules declare it, and each value as the raw file has it (the expected values are written
    /// out here from the raw text: Paris is UTC+1 in January, +2 in July; 12.345 rounds half away from zero).
    func testParquetSilverHasTheDeclaredTypesAndTheRawValues() throws {
        let folder = try TemporaryDirectory()
        try folder.write("rules.yaml", Self.typedRules)
        try bronze(folder, table: "events", """
            id,price,ratio,active,day,at,user_id,name
            1,12.345,0.125,yes,02/01/2024,2024-01-02T10:30:00+02:00,{0F8FAD5B-D9CB-469F-A165-70867728950E}," Ann ""A"" "
            2,3,,0,2024-07-14,2024-07-14 09:00:00,urn:uuid:7c9e6679-7425-40de-944b-e07fc1f90ae7,"b,c"
            3,,1e3,,,,,
            x,1,1,true,2024-01-01,2024-01-01,,not an id
            """)
        try clean(folder)

        let partition = folder.file("lake/silver/events/ds=\(ds)")
        let names = try FileManager.default.contentsOfDirectory(atPath: partition).sorted()
        XCTAssertEqual(names, ["_schema.json", "data.parquet", "quality.json", "rejects.csv"], "no CSV data beside the Parquet file")
        let described = try duckdb("SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet('\(partition)/data.parquet', hive_partitioning = false));")
        XCTAssertEqual(described, """
            column_name,column_type
            id,BIGINT
            price,"DECIMAL(18,2)"
            ratio,DOUBLE
            active,BOOLEAN
            day,DATE
            at,TIMESTAMP WITH TIME ZONE
            user_id,UUID
            name,VARCHAR

            """)
        let values = try duckdb("SELECT * FROM read_parquet('\(partition)/data.parquet', hive_partitioning = false) ORDER BY id;")
        XCTAssertEqual(values, #"""
            id,price,ratio,active,day,at,user_id,name
            1,12.35,0.125,true,2024-01-02,2024-01-02 08:30:00+00,0f8fad5b-d9cb-469f-a165-70867728950e,"Ann ""A"""
            2,3.00,,false,2024-07-14,2024-07-14 07:00:00+00,7c9e6679-7425-40de-944b-e07fc1f90ae7,"b,c"
            3,,1000.0,,,,,

            """#)
        // The rejects stay CSV for people to read; the schema says the format and the decimal's scale.
        let rejects = try String(contentsOfFile: "\(partition)/rejects.csv", encoding: .utf8)
        XCTAssertTrue(rejects.hasPrefix("_file,_line,_rule,_reason,id,"), rejects)
        XCTAssertTrue(rejects.contains("events.csv,5,type,id 'x' is not a whole number"), rejects)
        let schema = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(partition)/_schema.json"))) as? [String: Any])
        XCTAssertEqual(schema["format"] as? String, "parquet")
        let price = (schema["columns"] as? [[String: Any]])?.first { $0["name"] as? String == "price" }
        XCTAssertEqual(price?["scale"] as? Int, 2)
        let quality = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(partition)/quality.json"))) as? [String: Any])
        XCTAssertEqual(quality["rows_in"] as? Int, 4)
        XCTAssertEqual(quality["rows_out"] as? Int, 3)
    }

    /// The table's `format:` wins over the task's option, which wins over the DAG's param; a bad value names where
    /// it was written.
    func testTheFormatComesFromTheTableTheTaskOrTheDAG() throws {
        XCTAssertEqual(try LakeFormat.resolve(table: .csv, option: "parquet", operation: "silver.clean", environment: [LakeFormat.parameter: "parquet"]), .csv)
        XCTAssertEqual(try LakeFormat.resolve(table: nil, option: "CSV", operation: "silver.clean", environment: [LakeFormat.parameter: "parquet"]), .csv)
        XCTAssertEqual(try LakeFormat.resolve(table: nil, option: nil, operation: "silver.clean", environment: [LakeFormat.parameter: "parquet"]), .parquet)
        XCTAssertEqual(try LakeFormat.resolve(table: nil, option: nil, operation: "silver.clean", environment: [:]), .csv)
        XCTAssertThrowsError(try LakeFormat.resolve(table: nil, option: nil, operation: "gold.sql", environment: [LakeFormat.parameter: "parket"])) { error in
            XCTAssertEqual("\(error)", "gold.sql: params.lake_format: 'parket' is not a lake format (csv or parquet)")
        }
        let folder = try TemporaryDirectory()
        try folder.write("rules.yaml", "tables:\n  t:\n    format: orc\n    columns:\n      - { name: a, type: int }\n")
        XCTAssertThrowsError(try CleaningRules.load(path: folder.file("rules.yaml"))) { error in
            XCTAssertTrue("\(error)".contains("rules.yaml:3: tables.t.format: 'orc' is not a lake format (csv or parquet)"), "\(error)")
        }
    }

    static let shopRules = """
        tables:
          clients:
            key: [client_id]
            columns:
              - { name: client_id, type: string, required: true }
              - { name: country, type: string }
          sales:
            columns:
              - { name: client_id, type: string, required: true, references: clients.client_id }
              - { name: amount, type: decimal, scale: 2 }
              - { name: at, type: timestamp }
        """

    /// Day 1 CSV, day 2 Parquet: the foreign keys see both days' clients, and gold.sql on SQLite and on DuckDB
    /// computes the same gold from the mixed table; a model declared `-- format: parquet` is loaded from its
    /// Parquet file into both warehouses.
    func testAMixedTableReadsTheSameOnEveryReader() throws {
        _ = try DuckDBWarehouseTests.requireDuckDB()
        let folder = try TemporaryDirectory()
        try folder.write("rules.yaml", Self.shopRules)
        try bronze(folder, table: "clients", ds: "2024-01-01", "client_id,country\nC1,FR\nC2,DE\n")
        try bronze(folder, table: "sales", ds: "2024-01-01", "client_id,amount,at\nC1,10.5,2024-01-01T10:00:00Z\nC2,2,2024-01-01T11:00:00+01:00\n")
        try clean(folder, ds: "2024-01-01")
        // Day 2 as Parquet; its sales reference a client of day 1 (read from CSV) and one of day 2's own Parquet.
        try bronze(folder, table: "clients", ds: "2024-01-02", "client_id,country\nC3,ES\n")
        try bronze(folder, table: "sales", ds: "2024-01-02", "client_id,amount,at\nC1,1.25,2024-01-02T00:30:00Z\nC3,4,2024-01-02T23:59:59Z\nC9,1,2024-01-02T12:00:00Z\n")
        try clean(folder, ds: "2024-01-02", options: #", "format": "parquet""#)
        XCTAssertTrue(FileManager.default.fileExists(atPath: folder.file("lake/silver/sales/ds=2024-01-02/data.parquet")))
        XCTAssertTrue(FileManager.default.fileExists(atPath: folder.file("lake/silver/sales/ds=2024-01-01/data.csv")))
        let rejects = try String(contentsOfFile: folder.file("lake/silver/sales/ds=2024-01-02/rejects.csv"), encoding: .utf8)
        XCTAssertEqual(rejects.split(separator: "\n").count, 2, "only C9 is unknown: \(rejects)")

        try FileManager.default.createDirectory(atPath: folder.file("models"), withIntermediateDirectories: true)
        try folder.write("models/revenue.sql", """
            -- materialized: partition
            -- format: parquet
            SELECT c.country, COUNT(*) AS sales, ROUND(SUM(s.amount), 2) AS revenue, MIN(s.at) AS first_at
            FROM silver_sales s JOIN silver_clients c ON c.client_id = s.client_id
            WHERE s.ds = {{ ds }} GROUP BY c.country
            """)
        let gold = #"{"models": "models", "silver": ["clients", "sales"]}"#
        var results: [String: String] = [:]
        for engine in ["sqlite", "duckdb"] {
            let warehouse = engine == "sqlite" ? "sqlite://\(folder.file("warehouse.db"))" : "duckdb://\(folder.file("analytics.duckdb"))"
            try GoldSQL.run(try TransformOptions(operation: "gold.sql", json: gold), context(folder, warehouse: warehouse))
            let partition = folder.file("lake/gold/revenue/ds=\(ds)")
            XCTAssertFalse(FileManager.default.fileExists(atPath: "\(partition)/data.csv"), engine)
            results[engine] = try duckdb("SELECT country, sales, revenue, first_at FROM read_parquet('\(partition)/data.parquet', hive_partitioning = false) ORDER BY country;")
            try LoadWarehouse.run(try TransformOptions(operation: "load.warehouse", json: #"{"tables": ["revenue"]}"#), context(folder, warehouse: warehouse))
        }
        let expected = "country,sales,revenue,first_at\nES,1,4.0,2024-01-02T23:59:59Z\nFR,1,1.25,2024-01-02T00:30:00Z\n"
        XCTAssertEqual(results["sqlite"], expected)
        XCTAssertEqual(results["duckdb"], expected)
        let loaded = try duckdb("SELECT ds, country, sales, revenue FROM revenue ORDER BY country;", database: folder.file("analytics.duckdb"))
        XCTAssertEqual(loaded, "ds,country,sales,revenue\n2024-01-02,ES,1,4.0\n2024-01-02,FR,1,1.25\n")
        let sqlite = Process()
        sqlite.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
        sqlite.arguments = ["-csv", folder.file("warehouse.db"), "SELECT ds, country, sales, revenue FROM revenue ORDER BY country;"]
        let pipe = Pipe()
        sqlite.standardOutput = pipe
        try sqlite.run()
        let fromSQLite = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        sqlite.waitUntilExit()
        XCTAssertEqual(fromSQLite, "2024-01-02,ES,1,4.0\n2024-01-02,FR,1,1.25\n")
    }

    /// A table whose partitions are all Parquet is a view over its files in the DuckDB work database (nothing
    /// copied); once a CSV day joins it, it is staged as a table again, and the models' results do not change.
    func testAllParquetSilverIsReadInPlaceOnDuckDB() throws {
        _ = try DuckDBWarehouseTests.requireDuckDB()
        let folder = try TemporaryDirectory()
        try folder.write("rules.yaml", Self.shopRules)
        try FileManager.default.createDirectory(atPath: folder.file("models"), withIntermediateDirectories: true)
        try folder.write("models/totals.sql", "SELECT ds, COUNT(*) AS sales, SUM(amount) AS amount FROM silver_sales GROUP BY ds ORDER BY ds")
        let warehouse = "duckdb://\(folder.file("analytics.duckdb"))"
        let work = folder.file("work/d.duckdb")
        func run(_ day: String, format: String) throws -> String {
            try bronze(folder, table: "clients", ds: day, "client_id,country\nC1,FR\n")
            try bronze(folder, table: "sales", ds: day, "client_id,amount,at\nC1,1.5,\(day)T10:00:00Z\nC1,2,\(day)T11:00:00Z\n")
            try clean(folder, ds: day, options: #", "format": "\#(format)""#)
            try GoldSQL.run(try TransformOptions(operation: "gold.sql", json: #"{"models": "models", "silver": ["clients", "sales"]}"#),
                            context(folder, ds: day, warehouse: warehouse))
            return try String(contentsOfFile: folder.file("lake/gold/totals/ds=\(day)/data.csv"), encoding: .utf8)
        }
        XCTAssertEqual(try run("2024-01-01", format: "parquet"), "ds,sales,amount\n2024-01-01,2,3.5\n")
        XCTAssertEqual(try run("2024-01-02", format: "parquet"), "ds,sales,amount\n2024-01-01,2,3.5\n2024-01-02,2,3.5\n")
        XCTAssertEqual(try duckdb("SELECT table_type FROM information_schema.tables WHERE table_name = 'silver_sales';", database: work),
                       "table_type\nVIEW\n")
        XCTAssertEqual(try run("2024-01-03", format: "csv"), "ds,sales,amount\n2024-01-01,2,3.5\n2024-01-02,2,3.5\n2024-01-03,2,3.5\n")
        XCTAssertEqual(try duckdb("SELECT table_type FROM information_schema.tables WHERE table_name = 'silver_sales';", database: work),
                       "table_type\nBASE TABLE\n")
    }

    /// A bronze Parquet file (here made by DuckDB, as pandas or Spark would write one) is copied with its row
    /// count and cleaned like a CSV file; a rejected row is named by its row number.
    func testABronzeParquetFileIsExtractedAndCleaned() throws {
        _ = try DuckDBWarehouseTests.requireDuckDB()
        let folder = try TemporaryDirectory()
        try folder.write("rules.yaml", """
            tables:
              events:
                columns:
                  - { name: id, type: int, required: true }
                  - { name: at, type: timestamp }
                  - { name: amount, type: decimal, scale: 2 }
            """)
        try FileManager.default.createDirectory(atPath: folder.file("drop/\(ds)"), withIntermediateDirectories: true)
        _ = try duckdb("""
            COPY (SELECT * FROM (VALUES (1, TIMESTAMPTZ '2024-01-02 10:00:00+02', 1.5::DECIMAL(10,2)), (NULL, NULL, NULL),
                                        (3, TIMESTAMPTZ '2024-01-02 23:00:00Z', 2.25)) v(id, "at", amount))
            TO '\(folder.file("drop/\(ds)/events.parquet"))' (FORMAT parquet);
            """)
        try ExtractFiles.run(try TransformOptions(operation: "extract.files", json: #"{"source": "src", "files": ["drop/\#(ds)/*.parquet"]}"#),
                             context(folder))
        let manifest = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: folder.file("lake/bronze/src/events/ds=\(ds)/_manifest.json")))) as? [String: Any])
        XCTAssertEqual(manifest["rows"] as? Int, 3)
        try clean(folder)
        XCTAssertEqual(try String(contentsOfFile: folder.file("lake/silver/events/ds=\(ds)/data.csv"), encoding: .utf8),
                       "id,at,amount\n1,2024-01-02T08:00:00Z,1.50\n3,2024-01-02T23:00:00Z,2.25\n")
        let rejects = try String(contentsOfFile: folder.file("lake/silver/events/ds=\(ds)/rejects.csv"), encoding: .utf8)
        XCTAssertTrue(rejects.contains("events.parquet,2,required,id is empty"), rejects)
        let staged = try FileManager.default.contentsOfDirectory(atPath: folder.file("lake/silver/events/ds=\(ds)"))
        XCTAssertFalse(staged.contains { $0.hasPrefix(".") }, "\(staged)")

        // Not Parquet at all: extract.files fails naming the file.
        try folder.write("drop/\(ds)/broken.parquet", "id\n1\n")
        XCTAssertThrowsError(try ExtractFiles.run(try TransformOptions(operation: "extract.files", json: #"{"source": "src", "files": ["drop/\#(ds)/broken.parquet"]}"#), context(folder))) { error in
            XCTAssertTrue("\(error)".contains("broken.parquet"), "\(error)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder.file("lake/bronze/src/broken")), "nothing published")
    }
}
