import Foundation
import XCTest

/// shop_lake end to end with a DuckDB warehouse (`ORCHESTRATOR_WAREHOUSE=duckdb:///…`): its gold tables equal
/// those of the same days on the SQLite warehouse row for row, each read by its own engine's CLI (sqlite3,
/// duckdb), not by the library.
final class DuckDBWarehouseEndToEndTests: XCTestCase {
    static let tables = ["fact_sales", "daily_sales", "client_kpis", "product_analytics", "country_analytics"]
    static let days = ["2024-03-01", "2024-03-02", "2024-03-03", "2024-03-04"]

    /// DuckDB's CLI as the transforms find it, or a skip (a failure under ORCHESTRATOR_TEST_STRICT=1).
    static func requireDuckDB() throws -> String {
        let environment = ProcessInfo.processInfo.environment
        var candidates = [environment["ORCHESTRATOR_DUCKDB"] ?? ""]
        candidates += (environment["PATH"] ?? "").split(separator: ":").map { "\($0)/duckdb" }
        candidates.append(NSHomeDirectory() + "/.cache/orchestrator/duckdb-cli-1.5.6/duckdb_cli/duckdb")
        if let found = candidates.first(where: { !$0.isEmpty && FileManager.default.isExecutableFile(atPath: $0) }) { return found }
        if environment["ORCHESTRATOR_TEST_STRICT"] == "1" { XCTFail("DuckDB's CLI is missing (scripts/test installs it)") }
        throw XCTSkip("no DuckDB CLI: set ORCHESTRATOR_DUCKDB or put duckdb on PATH (scripts/test installs it)")
    }

    /// Runs a CLI with SQL on stdin; its stdout.
    static func cli(_ executable: String, _ arguments: [String], sql: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let input = Pipe(), output = Pipe(), errors = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        input.fileHandleForWriting.write(Data(sql.utf8))
        try input.fileHandleForWriting.close()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        let problems = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw NSError(domain: "cli", code: Int(process.terminationStatus),
                          userInfo: [NSLocalizedDescriptionKey: "\(executable): \(String(decoding: problems, as: UTF8.self))"])
        }
        return String(decoding: data, as: UTF8.self)
    }

    /// A table's rows as text, numbers in one canonical form (SQLite writes REAL 60 as 60.0, DuckDB a DOUBLE the
    /// same, but an integer-valued aggregate may differ in form), sorted.
    /// (Quotes are undone: sqlite3 quotes a field holding a space, DuckDB one holding a quote.)
    static func canonicalRows(_ csv: String) -> [String] {
        csv.split(separator: "\n").dropFirst().map { line in
            fields(String(line)).map { field -> String in
                if let number = Double(field), field.contains(".") || field.contains("e") { return String(format: "%.6f", number) }
                return field
            }.joined(separator: "\u{1F}")
        }.sorted()
    }

    /// One CSV line's fields, quotes undone.
    static func fields(_ line: String) -> [String] {
        var fields: [String] = [], field = "", quoted = false
        var characters = Array(line.replacingOccurrences(of: "\r", with: "")).makeIterator()
        while let character = characters.next() {
            if quoted {
                if character == "\"" {
                    if let next = characters.next() {
                        if next == "\"" { field.append("\"") } else { quoted = false; if next == "," { fields.append(field); field = "" } else { field.append(next) } }
                    } else { quoted = false }
                } else { field.append(character) }
            } else if character == "\"" && field.isEmpty {
                quoted = true
            } else if character == "," {
                fields.append(field); field = ""
            } else { field.append(character) }
        }
        fields.append(field)
        return fields
    }

    func testShopLakeOnADuckDBWarehouseEqualsTheSQLiteRunRowForRow() throws {
        let duckdb = try Self.requireDuckDB()
        let onSQLite = try ShopLakeTests.makeHarness(days: 4)
        let onDuckDB = try ShopLakeTests.makeHarness(days: 4)
        let warehouse = onDuckDB.root.appendingPathComponent("warehouse/analytics.duckdb").path
        onDuckDB.extraEnvironment["ORCHESTRATOR_WAREHOUSE"] = "duckdb://\(warehouse)"
        onDuckDB.extraEnvironment["ORCHESTRATOR_DUCKDB"] = duckdb
        for h in [onSQLite, onDuckDB] {
            let backfill = try h.run(["backfill", "shop_lake", "--start", Self.days[0], "--end", Self.days[3]], timeout: 300)
            let goldLog = try h.run(["logs", "shop_lake", "gold", "--date", Self.days[0]]).stdout
            XCTAssertEqual(backfill.status, 0, backfill.stderr + goldLog)
        }
        // Gold really ran on DuckDB, its work database beside the others, and no SQLite warehouse was written.
        XCTAssertTrue(FileManager.default.fileExists(atPath: onDuckDB.home.appendingPathComponent("work/shop_lake.duckdb").path))
        XCTAssertFalse(FileManager.default.fileExists(atPath: onDuckDB.home.appendingPathComponent("warehouse.db").path))
        let sqlite = onSQLite.home.appendingPathComponent("warehouse.db").path
        for table in Self.tables {
            let fromSQLite = try Self.cli("/usr/bin/sqlite3", ["-csv", "-header", sqlite], sql: "SELECT * FROM \(table);")
            let fromDuckDB = try Self.cli(duckdb, ["-csv", "-readonly", warehouse], sql: "SELECT * FROM \(table);")
            // Columns in the same order, with the same names.
            XCTAssertEqual(fromSQLite.prefix { $0 != "\n" }, fromDuckDB.prefix { $0 != "\n" }, table)
            let left = Self.canonicalRows(fromSQLite), right = Self.canonicalRows(fromDuckDB)
            XCTAssertGreaterThan(left.count, 0, table)
            XCTAssertEqual(left.count, right.count, table)
            for (a, b) in zip(left, right) where a != b { XCTFail("\(table): SQLite \(a) ≠ DuckDB \(b)"); break }
        }
        // quality.check ran on DuckDB too.
        let quality = try onDuckDB.run(["logs", "shop_lake", "quality", "--date", Self.days[3]]).stdout
        XCTAssertTrue(quality.contains("quality.check: 13 tests, all passed or warned"), quality)
    }

    /// Without the binary, the DAG's first DuckDB task fails with one line saying how to install it.
    func testADuckDBWarehouseWithoutTheBinaryFailsWithHowToInstallIt() throws {
        let h = try ShopLakeTests.makeHarness(days: 1)
        h.extraEnvironment["ORCHESTRATOR_WAREHOUSE"] = "duckdb://\(h.root.path)/analytics.duckdb"
        h.extraEnvironment["ORCHESTRATOR_DUCKDB"] = h.root.appendingPathComponent("no-duckdb").path
        let backfill = try h.run(["backfill", "shop_lake", "--start", "2024-03-01", "--end", "2024-03-01"], timeout: 300)
        XCTAssertNotEqual(backfill.status, 0)
        let log = try h.run(["logs", "shop_lake", "gold", "--date", "2024-03-01"]).stdout
        let line = try XCTUnwrap(log.split(separator: "\n").first { $0.contains("ORCHESTRATOR_DUCKDB=") }, log)
        XCTAssertTrue(line.contains("is not an executable file; install DuckDB's CLI with scripts/run or scripts/test (pip install --target"), String(line))
    }

    /// `warehouse:` in the configuration file reaches the tasks; a warehouse URL of another kind is refused there.
    func testTheConfigurationsWarehouseReachesTheTasks() throws {
        let duckdb = try Self.requireDuckDB()
        let h = try ShopLakeTests.makeHarness(days: 1)
        let warehouse = h.root.appendingPathComponent("configured/analytics.duckdb").path
        try "warehouse: duckdb://\(warehouse)\n".write(toFile: h.path("orchestrator.yaml"), atomically: true, encoding: .utf8)
        h.extraEnvironment["ORCHESTRATOR_CONFIG"] = h.path("orchestrator.yaml")
        h.extraEnvironment["ORCHESTRATOR_DUCKDB"] = duckdb
        let backfill = try h.run(["backfill", "shop_lake", "--start", "2024-03-01", "--end", "2024-03-01"], timeout: 300)
        XCTAssertEqual(backfill.status, 0, backfill.stderr)
        let days = try Self.cli(duckdb, ["-csv", "-readonly", warehouse], sql: "SELECT date, orders > 0 AS has_orders FROM daily_sales;")
        XCTAssertEqual(days, "date,has_orders\n2024-03-01,true\n")
        XCTAssertFalse(FileManager.default.fileExists(atPath: h.home.appendingPathComponent("warehouse.db").path))

        try "warehouse: postgres://u:secret@127.0.0.1/db\n".write(toFile: h.path("orchestrator.yaml"), atomically: true, encoding: .utf8)
        let refused = try h.run(["backfill", "shop_lake", "--start", "2024-03-02", "--end", "2024-03-02"])
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(refused.stderr.contains("warehouse: '") && refused.stderr.contains("is not sqlite:///path or duckdb:///path"), refused.stderr)
        XCTAssertFalse(refused.stderr.contains("secret"), refused.stderr)
    }
}
