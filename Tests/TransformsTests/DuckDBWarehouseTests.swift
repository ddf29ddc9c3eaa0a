import Foundation
@testable import Transforms
import XCTest

/// The DuckDB warehouse with DuckDB's real CLI (scripts/test installs it; ORCHESTRATOR_DUCKDB or PATH).
final class DuckDBWarehouseTests: XCTestCase {
    /// The CLI, or a skip (a failure under ORCHESTRATOR_TEST_STRICT=1, where scripts/test must have installed it).
    static func requireDuckDB() throws -> String {
        if let binary = try? DuckDBCLI.locate() { return binary }
        if ProcessInfo.processInfo.environment["ORCHESTRATOR_TEST_STRICT"] == "1" {
            XCTFail("DuckDB's CLI is missing (scripts/test installs it; ORCHESTRATOR_DUCKDB)")
        }
        throw XCTSkip("no DuckDB CLI: set ORCHESTRATOR_DUCKDB or put duckdb on PATH (scripts/test installs it)")
    }

    func context(_ folder: TemporaryDirectory, ds: String = "2024-01-01", warehouse: String? = nil) -> TransformContext {
        let start = ISO8601DateFormatter().date(from: "\(ds)T00:00:00Z") ?? Date(timeIntervalSince1970: 0)
        return TransformContext(
            dagId: "d", taskId: "t", runId: "r", ds: ds, dataIntervalStart: start, dataIntervalEnd: start.addingTimeInterval(86_400),
            folder: folder.path, home: folder.path, lake: LocalLake(root: folder.file("lake")),
            warehouse: warehouse ?? "duckdb://\(folder.file("analytics.duckdb"))", workDatabase: folder.file("work/d.db"),
            connections: Connections(environment: [:]), log: TransformLog())
    }

    /// A gold partition in the lake, as gold.sql publishes it.
    func writeGold(_ folder: TemporaryDirectory, table: String, ds: String, csv: String, columns: [(String, String)], partitioned: Bool = true) throws {
        let partition = "lake/gold/\(table)/ds=\(ds)"
        try FileManager.default.createDirectory(atPath: folder.file(partition), withIntermediateDirectories: true)
        try folder.write("\(partition)/data.csv", csv)
        let schema: [String: Any] = ["columns": columns.map { ["name": $0.0, "type": $0.1] },
                                     "materialized": partitioned ? "partition" : "full", "model": table, "ds": ds]
        try JSONSerialization.data(withJSONObject: schema).write(to: URL(fileURLWithPath: folder.file("\(partition)/_schema.json")))
    }

    func duckdb(_ binary: String, _ database: String, _ sql: String) throws -> String {
        try DuckDBCLI(executable: binary, database: database).run(sql)
    }

    /// DuckDB runs in the task's process group: a task killed by its group (a timeout, a lost node) takes it along,
    /// rather than leaving it running and holding the database's lock. DuckDB's shell prints its own group.
    func testDuckDBRunsInTheCallersProcessGroup() throws {
        let binary = try Self.requireDuckDB()
        let folder = try TemporaryDirectory()
        let printed = try duckdb(binary, folder.file("x.duckdb"), ".system ps -o pgid= -p $$\n")
        XCTAssertEqual(Int32(printed.trimmingCharacters(in: .whitespacesAndNewlines)), getpgrp(), printed)
    }

    /// Timestamps read and written in UTC whatever the machine's zone (SQLite's way).
    func testScriptsRunInUTC() throws {
        let binary = try Self.requireDuckDB()
        let folder = try TemporaryDirectory()
        let zone = ProcessInfo.processInfo.environment["TZ"]
        setenv("TZ", "Asia/Tokyo", 1)
        defer { if let zone { setenv("TZ", zone, 1) } else { unsetenv("TZ") } }
        let out = try duckdb(binary, folder.file("x.duckdb"),
                             try DuckDBDatabase.variables(context(folder)) + "SELECT CAST(TIMESTAMPTZ '2024-01-01 23:30:00Z' AS DATE) AS d;\n")
        XCTAssertEqual(out.split(separator: "\n").last.map(String.init), "2024-01-01", out)
    }

    func testAMissingBinaryFailsWithOneLineSayingHowToInstallIt() throws {
        let folder = try TemporaryDirectory()
        XCTAssertThrowsError(try DuckDBCLI.locate(environment: ["PATH": folder.path, "HOME": folder.path])) { error in
            let text = "\(error)"
            XCTAssertTrue(text.hasPrefix("DuckDB's CLI (duckdb) is not installed: "), text)
            XCTAssertTrue(text.contains("pip install --target ~/.cache/orchestrator/duckdb-cli-1.5.6 duckdb-cli==1.5.6"), text)
            XCTAssertFalse(text.contains("\n"), text)
        }
        XCTAssertThrowsError(try DuckDBCLI.locate(environment: ["ORCHESTRATOR_DUCKDB": folder.file("nope")])) { error in
            XCTAssertTrue("\(error)".hasPrefix("ORCHESTRATOR_DUCKDB=\(folder.file("nope")) is not an executable file; install"), "\(error)")
        }
        // A load on a machine without it fails with that line, before touching anything.
        try writeGold(folder, table: "sales", ds: "2024-01-01", csv: "id\n1\n", columns: [("id", "integer")])
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        let configured = ProcessInfo.processInfo.environment["ORCHESTRATOR_DUCKDB"]
        let home = ProcessInfo.processInfo.environment["HOME"]
        setenv("PATH", folder.path, 1)
        unsetenv("ORCHESTRATOR_DUCKDB")
        setenv("HOME", folder.path, 1)
        defer {
            setenv("PATH", path, 1)
            if let configured { setenv("ORCHESTRATOR_DUCKDB", configured, 1) }
            if let home { setenv("HOME", home, 1) } else { unsetenv("HOME") }
        }
        XCTAssertThrowsError(try LoadWarehouse.run(try TransformOptions(operation: "load.warehouse", json: #"{"tables": ["sales"]}"#), context(folder))) { error in
            XCTAssertTrue("\(error)".hasPrefix("DuckDB's CLI (duckdb) is not installed"), "\(error)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder.file("analytics.duckdb")))
    }

    /// The error names the model file and the line of the file DuckDB points at, with DuckDB's message, on one line.
    func testAModelWithASQLErrorNamesTheFileTheLineAndDuckDBsMessage() throws {
        _ = try Self.requireDuckDB()
        let folder = try TemporaryDirectory()
        try folder.write("rules.yaml", "tables:\n  sales:\n    columns:\n      - { name: id, type: int, required: true }\n")
        try FileManager.default.createDirectory(atPath: folder.file("lake/bronze/shop/sales/ds=2024-01-01"), withIntermediateDirectories: true)
        try folder.write("lake/bronze/shop/sales/ds=2024-01-01/sales.csv", "id\n1\n2\n")
        try FileManager.default.createDirectory(atPath: folder.file("models"), withIntermediateDirectories: true)
        try folder.write("models/good.sql", "SELECT id FROM silver_sales")
        try folder.write("models/bad.sql", "\n-- materialized: partition\nSELECT id,\n       julianday({{ ds }}) AS day\nFROM silver_sales\n")
        let context = context(folder)
        try SilverClean.run(try TransformOptions(operation: "silver.clean", json: #"{"rules": "rules.yaml", "source": "shop"}"#), context)
        XCTAssertThrowsError(try GoldSQL.run(try TransformOptions(operation: "gold.sql", json: #"{"models": "models", "silver": ["sales"]}"#), context)) { error in
            let text = "\(error)"
            XCTAssertTrue(text.hasPrefix("gold.sql: model bad (\(folder.file("models/bad.sql")):4): Catalog Error: Scalar Function with name julianday does not exist!"), text)
            XCTAssertTrue(text.hasSuffix("(at: julianday(getvariable('ds')) AS day)"), text)
            XCTAssertFalse(text.contains("\n"), text)
        }
        // Nothing of the failed model reached the lake.
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder.file("lake/gold/bad/ds=2024-01-01")))
        // A second statement in a model is refused before DuckDB runs it.
        try folder.write("models/bad.sql", "SELECT id FROM silver_sales; DROP TABLE silver_sales")
        XCTAssertThrowsError(try GoldSQL.run(try TransformOptions(operation: "gold.sql", json: #"{"models": "models", "silver": ["sales"]}"#), context)) { error in
            XCTAssertTrue("\(error)".contains("holds more than one statement"), "\(error)")
        }
    }

    /// gold.sql on DuckDB picks `<model>.duckdb.sql` over `<model>.sql`; SQLite ignores the DuckDB variant.
    func testAModelVariantReplacesTheModelOnItsEngineOnly() throws {
        let binary = try Self.requireDuckDB()
        let folder = try TemporaryDirectory()
        try folder.write("rules.yaml", "tables:\n  sales:\n    columns:\n      - { name: id, type: int, required: true }\n")
        try FileManager.default.createDirectory(atPath: folder.file("lake/bronze/shop/sales/ds=2024-01-01"), withIntermediateDirectories: true)
        try folder.write("lake/bronze/shop/sales/ds=2024-01-01/sales.csv", "id\n1\n2\n")
        try FileManager.default.createDirectory(atPath: folder.file("models"), withIntermediateDirectories: true)
        try folder.write("models/engine.sql", "SELECT 'sqlite' AS engine, COUNT(*) AS n FROM silver_sales WHERE ds = {{ ds }}")
        try folder.write("models/engine.duckdb.sql", "SELECT 'duckdb' AS engine, COUNT(*) AS n FROM silver_sales WHERE ds = '{{ ds }}'")
        let onDuckDB = context(folder)
        try SilverClean.run(try TransformOptions(operation: "silver.clean", json: #"{"rules": "rules.yaml", "source": "shop"}"#), onDuckDB)
        try GoldSQL.run(try TransformOptions(operation: "gold.sql", json: #"{"models": "models", "silver": ["sales"]}"#), onDuckDB)
        XCTAssertEqual(try String(contentsOfFile: folder.file("lake/gold/engine/ds=2024-01-01/data.csv"), encoding: .utf8), "engine,n\nduckdb,2\n")
        XCTAssertEqual(try duckdb(binary, folder.file("work/d.duckdb"), "SELECT * FROM engine;"), "engine,n\nduckdb,2\n")
        try GoldSQL.run(try TransformOptions(operation: "gold.sql", json: #"{"models": "models", "silver": ["sales"]}"#),
                        context(folder, warehouse: "sqlite://\(folder.file("warehouse.db"))"))
        XCTAssertEqual(try String(contentsOfFile: folder.file("lake/gold/engine/ds=2024-01-01/data.csv"), encoding: .utf8), "engine,n\nsqlite,2\n")
    }

    /// A partition is replaced in one transaction; a load that fails half-way leaves the previous one whole.
    func testLoadReplacesThePartitionInOneTransaction() throws {
        let binary = try Self.requireDuckDB()
        let folder = try TemporaryDirectory()
        let warehouse = folder.file("analytics.duckdb")
        try writeGold(folder, table: "sales", ds: "2024-01-01", csv: "id,amount,label\n1,2.5,\"a,b\"\n2,,it's\n",
                      columns: [("id", "integer"), ("amount", "real"), ("label", "text")])
        try writeGold(folder, table: "totals", ds: "2024-01-01", csv: "n\n2\n", columns: [("n", "integer")], partitioned: false)
        let options = try TransformOptions(operation: "load.warehouse", json: #"{"tables": ["sales", "totals"]}"#)
        try LoadWarehouse.run(options, context(folder))
        XCTAssertEqual(try duckdb(binary, warehouse, "SELECT ds, id, amount, label FROM sales ORDER BY id; SELECT typeof(amount) FROM sales LIMIT 1;"),
                       "ds,id,amount,label\n2024-01-01,1,2.5,\"a,b\"\n2024-01-01,2,,\"it's\"\ntypeof(amount)\nDOUBLE\n")
        // The day again, with a bad row in the second table: nothing of the second load shows.
        try writeGold(folder, table: "sales", ds: "2024-01-01", csv: "id,amount,label\n3,1,c\n", columns: [("id", "integer"), ("amount", "real"), ("label", "text")])
        try writeGold(folder, table: "totals", ds: "2024-01-01", csv: "n\nnot a number\n", columns: [("n", "integer")], partitioned: false)
        XCTAssertThrowsError(try LoadWarehouse.run(options, context(folder))) { error in
            XCTAssertTrue("\(error)".hasPrefix("load.warehouse into \(warehouse): Conversion Error"), "\(error)")
        }
        XCTAssertEqual(try duckdb(binary, warehouse, "SELECT id FROM sales ORDER BY id; SELECT n FROM totals;"), "id\n1\n2\nn\n2\n")
    }

    /// Two tasks writing one warehouse at once: the second waits for the first's lock instead of failing with
    /// DuckDB's lock error, and every partition arrives.
    func testTwoTasksWritingOneWarehouseAtOnceAreSerialized() throws {
        let binary = try Self.requireDuckDB()
        let folder = try TemporaryDirectory()
        let days = (1...8).map { String(format: "2024-01-%02d", $0) }
        for day in days {
            // Enough rows that each load takes a while, so the two writers overlap.
            let rows = (0..<20_000).map { "\($0),\(day)" }.joined(separator: "\n")
            try writeGold(folder, table: "sales", ds: day, csv: "id,day\n" + rows + "\n", columns: [("id", "integer"), ("day", "text")])
        }
        let options = try TransformOptions(operation: "load.warehouse", json: #"{"tables": ["sales"]}"#)
        let failures = NSLock()
        nonisolated(unsafe) var errors: [String] = []
        let contexts = days.map { context(folder, ds: $0) }
        DispatchQueue.concurrentPerform(iterations: 2) { writer in
            for index in stride(from: writer, to: days.count, by: 2) {
                do { try LoadWarehouse.run(options, contexts[index]) } catch {
                    failures.withLock { errors.append("\(days[index]): \(error)") }
                }
            }
        }
        XCTAssertEqual(errors, [])
        XCTAssertEqual(try duckdb(binary, folder.file("analytics.duckdb"), "SELECT count(DISTINCT ds) AS days, count(*) AS n FROM sales;"),
                       "days,n\n8,160000\n")
    }

    /// While another process holds the warehouse's lock, a load waits; past the wait limit it fails clearly.
    func testALoadWaitsForTheLockAndGivesUpAfterTheLimit() throws {
        _ = try Self.requireDuckDB()
        let folder = try TemporaryDirectory()
        try writeGold(folder, table: "sales", ds: "2024-01-01", csv: "id\n1\n", columns: [("id", "integer")])
        let options = try TransformOptions(operation: "load.warehouse", json: #"{"tables": ["sales"]}"#)
        nonisolated(unsafe) let holder = DuckDBFileLock(database: folder.file("analytics.duckdb"))
        try holder.acquire(limit: 1)
        setenv("ORCHESTRATOR_DUCKDB_LOCK_TIMEOUT", "0.5", 1)
        defer { unsetenv("ORCHESTRATOR_DUCKDB_LOCK_TIMEOUT") }
        let started = Date()
        XCTAssertThrowsError(try LoadWarehouse.run(options, context(folder))) { error in
            XCTAssertTrue("\(error)".hasPrefix("another task has been using \(folder.file("analytics")).duckdb") || "\(error)".contains("gave up waiting"), "\(error)")
            XCTAssertTrue("\(error)".contains("ORCHESTRATOR_DUCKDB_LOCK_TIMEOUT"), "\(error)")
        }
        XCTAssertGreaterThanOrEqual(Date().timeIntervalSince(started), 0.5)
        // Released within the wait: the load goes through.
        setenv("ORCHESTRATOR_DUCKDB_LOCK_TIMEOUT", "30", 1)
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.5) { holder.release() }
        try LoadWarehouse.run(options, context(folder))
    }

    func testQualityChecksRunOnDuckDBWithTheRunsParameters() throws {
        _ = try Self.requireDuckDB()
        let folder = try TemporaryDirectory()
        try writeGold(folder, table: "sales", ds: "2024-01-01", csv: "id,amount\n1,2\n1,-3\n", columns: [("id", "integer"), ("amount", "real")])
        try LoadWarehouse.run(try TransformOptions(operation: "load.warehouse", json: #"{"tables": ["sales"]}"#), context(folder))
        try folder.write("quality.yaml", """
            tests:
              - { table: sales, row_count: { min: 2, max: 2 }, where: "ds = '{{ ds }}'" }
              - { table: sales, unique: [id] }
              - { name: negative, sql: "SELECT * FROM sales WHERE amount < 0 AND ds = {{ ds }}", severity: warn }
            """)
        let context = context(folder)
        XCTAssertThrowsError(try QualityCheck.run(try TransformOptions(operation: "quality.check", json: #"{"tests": "quality.yaml"}"#), context)) { error in
            XCTAssertEqual("\(error)", "quality.check: 1 of 3 tests failed: sales.unique(id)")
        }
    }

    func testTheRunnerBoundsOutputAndTime() throws {
        let binary = try Self.requireDuckDB()
        let folder = try TemporaryDirectory()
        var cli = DuckDBCLI(executable: binary, database: folder.file("x.duckdb"))
        cli.outputLimit = 10_000
        XCTAssertThrowsError(try cli.run("SELECT range FROM range(100000);")) { error in
            XCTAssertTrue("\(error)".contains("printed more than 10000 bytes"), "\(error)")
        }
        cli.outputLimit = 1 << 20
        cli.timeout = 0.5
        let started = Date()
        XCTAssertThrowsError(try cli.run("SELECT sum(a.range * b.range) FROM range(1000000) a, range(1000000) b;")) { error in
            XCTAssertTrue("\(error)".contains("did not finish within 0 s") || "\(error)".contains("did not finish"), "\(error)")
        }
        XCTAssertLessThan(Date().timeIntervalSince(started), 10)
    }

    func testDuckDBsErrorsAndOutputAreReadBack() {
        let failure = DuckDBFailure(stderr: "Catalog Error: Table with name nope does not exist!\nDid you mean \"pg_enum\"?\n\nLINE 4: FROM nope;\n             ^\n")
        XCTAssertEqual(failure.message, "Catalog Error: Table with name nope does not exist! Did you mean \"pg_enum\"?")
        XCTAssertEqual(failure.statementLine, 4)
        XCTAssertEqual(failure.lineText, "FROM nope;")
        XCTAssertEqual(DuckDBCSV.parse("a,b,c\n1,\"x,\"\"y\"\"\n z\",\n,\"\",3\r\n"), [["a", "b", "c"], ["1", "x,\"y\"\n z", nil], [nil, "", "3"]])
        XCTAssertTrue(DuckDBDatabase.isSingleStatement("SELECT ';' AS \"a;b\" -- ;\n/* ; */ FROM t"))
        XCTAssertFalse(DuckDBDatabase.isSingleStatement("SELECT 1; DROP TABLE t"))
        XCTAssertEqual(DuckDBDatabase.literal("it's"), "'it''s'")
    }

    /// load.warehouse's `target` may name a connection holding a duckdb:// URL.
    func testALoadIntoANamedDuckDBConnection() throws {
        let binary = try Self.requireDuckDB()
        let folder = try TemporaryDirectory()
        try writeGold(folder, table: "sales", ds: "2024-01-01", csv: "id\n7\n", columns: [("id", "integer")])
        var context = context(folder, warehouse: "sqlite://\(folder.file("warehouse.db"))")
        context.connections = Connections(urls: ["analytics": "duckdb://\(folder.file("named.duckdb"))"])
        try LoadWarehouse.run(try TransformOptions(operation: "load.warehouse", json: #"{"tables": ["sales"], "target": "analytics"}"#), context)
        XCTAssertEqual(try duckdb(binary, folder.file("named.duckdb"), "SELECT ds, id FROM sales;"), "ds,id\n2024-01-01,7\n")
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder.file("warehouse.db")))
    }
}
