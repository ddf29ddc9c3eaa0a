import Foundation
import XCTest

/// extract.postgres and load.postgres against the real PostgreSQL server that scripts/test starts on a
/// loopback port (ORCHESTRATOR_TEST_POSTGRES).
/// A fresh database on the test server for each test, with a password in its URL that must never leak.
class PostgresTestCase: XCTestCase {
    var serverURL: String!
    var databaseURL: String!
    var database = ""

    override func setUpWithError() throws {
        guard let url = ProcessInfo.processInfo.environment["ORCHESTRATOR_TEST_POSTGRES"], !url.isEmpty else {
            if ProcessInfo.processInfo.environment["ORCHESTRATOR_TEST_STRICT"] == "1" {
                XCTFail("ORCHESTRATOR_TEST_POSTGRES is not set: scripts/test should have started PostgreSQL")
            }
            throw XCTSkip("no test PostgreSQL (run the tests with scripts/test)")
        }
        serverURL = url
        database = "orch_test_\(UUID().uuidString.prefix(8).lowercased())"
        try psql(url, "CREATE DATABASE \(database)")
        // A password in the URL (trust authentication ignores it) lets the test check that it never leaks.
        var components = try XCTUnwrap(URLComponents(string: url))
        components.password = "Sup3rSecretPw"
        components.path = "/\(database)"
        databaseURL = try XCTUnwrap(components.string)
    }

    override func tearDownWithError() throws {
        if let serverURL, !database.isEmpty { try? psql(serverURL, "DROP DATABASE IF EXISTS \(database) WITH (FORCE)") }
    }

    @discardableResult
    func psql(_ url: String, _ sql: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/psql")
        process.arguments = [url, "-v", "ON_ERROR_STOP=1", "-tAq", "-c", sql]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        guard process.terminationStatus == 0 else { throw NSError(domain: "psql", code: Int(process.terminationStatus), userInfo: [NSLocalizedDescriptionKey: text]) }
        return text.trimmingCharacters(in: .whitespacesAndNewlines)
    }

}

final class PostgresPipelineTests: PostgresTestCase {
    func testExtractFromPostgresAndLoadIntoAReportingSchema() throws {
        try psql(databaseURL, """
            CREATE TABLE clients (id int PRIMARY KEY, name text, email text);
            INSERT INTO clients VALUES (1, 'Ada, "the first"', 'ada@example.com'), (2, E'Bob\\nNewline', 'bob@example.com'), (3, 'Cy', NULL);
            CREATE TABLE orders (id int PRIMARY KEY, client_id int, amount numeric(10,2), updated_at timestamptz);
            INSERT INTO orders VALUES
              (1, 1, 10.50, '2024-05-01 08:00:00+00'), (2, 2, 20.25, '2024-05-01 23:59:59+00'),
              (3, 1, 5.00, '2024-05-02 00:00:00+00'), (4, 3, 7.75, '2024-05-02 12:00:00+02'),
              (5, 2, 100.00, '2024-05-03 00:00:00+00');
            """)
        let h = try Harness()
        h.extraEnvironment["ORCHESTRATOR_CONN_APPDB"] = databaseURL
        try FileManager.default.createDirectory(at: h.dags.appendingPathComponent("pg/models"), withIntermediateDirectories: true)
        try """
            tables:
              clients:
                key: [id]
                columns:
                  - { name: id, type: int, required: true }
                  - { name: name, type: string }
                  - { name: email, type: string, required: true }
              orders:
                key: [id]
                columns:
                  - { name: id, type: int, required: true }
                  - { name: client_id, type: int, required: true }
                  - { name: amount, type: decimal, min: 0 }
                  - { name: updated_at, type: timestamp, formats: ["%Y-%m-%d %H:%M:%S%z"] }
            """.write(to: h.dags.appendingPathComponent("pg/rules.yaml"), atomically: true, encoding: .utf8)
        try """
            -- materialized: partition
            SELECT {{ ds }} AS date, COUNT(*) AS orders, ROUND(SUM(amount), 2) AS total FROM silver_orders WHERE ds = {{ ds }}
            """.write(to: h.dags.appendingPathComponent("pg/models/daily_orders.sql"), atomically: true, encoding: .utf8)
        try h.writeDag("pg", """
            dag_id: pg
            schedule: "@daily"
            start_date: 2024-05-01
            catchup: false
            max_active_runs: 1
            tasks:
              - id: extract
                transform: extract.postgres
                with: { connection: appdb, source: app, tables: [clients, { name: orders, incremental_column: updated_at }] }
              - id: silver
                depends_on: [extract]
                transform: silver.clean
                with: { source: app, rules: pg/rules.yaml, tables: [orders] }
              - id: gold
                depends_on: [silver]
                transform: gold.sql
                with: { models: pg/models, silver: [orders] }
              - id: publish
                depends_on: [gold]
                transform: load.postgres
                with: { connection: appdb, schema: reporting, tables: [daily_orders] }
            """)
        let backfill = try h.run(["backfill", "pg", "--start", "2024-05-01", "--end", "2024-05-02"])
        XCTAssertEqual(backfill.status, 0, backfill.stderr)

        // Incremental extraction keeps each day's interval [D, D+1) in UTC: order 4 (10:00 UTC on the 2nd) is
        // in the second day, order 5 (midnight on the 3rd) in neither.
        let day1 = try String(contentsOfFile: h.path("home/lake/bronze/app/orders/ds=2024-05-01/orders.csv"), encoding: .utf8)
        XCTAssertEqual(day1.split(separator: "\n").count, 3, day1)
        let clients = try String(contentsOfFile: h.path("home/lake/bronze/app/clients/ds=2024-05-01/clients.csv"), encoding: .utf8)
        XCTAssertTrue(clients.contains("\"Ada, \"\"the first\"\"\""), clients)
        XCTAssertTrue(clients.contains("\"Bob\nNewline\""), clients)
        XCTAssertEqual(try psql(databaseURL, "SELECT ds, date, orders, total FROM reporting.daily_orders ORDER BY ds"),
                       "2024-05-01|2024-05-01|2|30.75\n2024-05-02|2024-05-02|2|12.75")

        // Re-running a day replaces its partition in PostgreSQL; no second copy.
        try psql(databaseURL, "UPDATE orders SET amount = 1.00 WHERE id = 3")
        XCTAssertEqual(try h.run(["backfill", "pg", "--start", "2024-05-02", "--end", "2024-05-02", "--reset"]).status, 0)
        XCTAssertEqual(try psql(databaseURL, "SELECT ds, orders, total FROM reporting.daily_orders ORDER BY ds"),
                       "2024-05-01|2|30.75\n2024-05-02|2|8.75")

        let log = try h.run(["logs", "pg", "extract", "--date", "2024-05-01"]).stdout
        XCTAssertTrue(log.contains("extract.postgres: public.orders (rows with updated_at in [2024-05-01T00:00:00Z, 2024-05-02T00:00:00Z))"), log)
    }

    func testConnectionErrorsNeverShowThePassword() throws {
        let h = try Harness()
        h.extraEnvironment["ORCHESTRATOR_CONN_BROKEN"] = databaseURL.replacingOccurrences(of: database, with: "no_such_database")
        try h.writeDag("broken", """
            dag_id: broken
            schedule: null
            start_date: 2024-05-01
            tasks:
              - id: extract
                transform: extract.postgres
                with: { connection: broken, source: app, tables: [clients] }
            """)
        let result = try h.run(["test", "broken", "--date", "2024-05-01"])
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(result.stdout.contains("no_such_database"), result.stdout)
        XCTAssertTrue(result.stdout.contains("***"), result.stdout)
        XCTAssertFalse(result.stdout.contains("Sup3rSecretPw"), result.stdout)
        XCTAssertFalse(result.stderr.contains("Sup3rSecretPw"), result.stderr)
    }
}
