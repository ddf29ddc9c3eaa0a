import Foundation
import GRDB
import XCTest

/// Running a DAG as a data engineer does: `orchestrator test` writes to the real lake and warehouse (so testing
/// day D and then D+1 behaves like production) while its run record stays apart from the scheduler's history;
/// `--scratch` touches nothing of the home; `backfill --param` reaches the runs it creates.
final class TestCommandTests: XCTestCase {
    /// Clients and orders per day; an order may name a client of an earlier day; a running total over every day.
    func makeHarness() throws -> Harness {
        let h = try Harness()
        let data = h.dags.appendingPathComponent("in")
        for (day, clients, orders) in [("2024-01-01", "id,name\n1,a\n2,b\n", "id,client_id,amount\n10,1,5\n11,2,7\n"),
                                       ("2024-01-02", "id,name\n3,c\n", "id,client_id,amount\n12,1,1\n13,3,2\n14,2,4\n"),
                                       ("2024-01-03", "id,name\n4,d\n", "id,client_id,amount\n15,4,100\n")] {
            let folder = data.appendingPathComponent(day)
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            try clients.write(to: folder.appendingPathComponent("clients.csv"), atomically: true, encoding: .utf8)
            try orders.write(to: folder.appendingPathComponent("orders.csv"), atomically: true, encoding: .utf8)
        }
        try FileManager.default.createDirectory(at: h.dags.appendingPathComponent("shop/models"), withIntermediateDirectories: true)
        try """
            tables:
              clients:
                key: [id]
                columns: [{ name: id, type: int, required: true }, { name: name, type: string }]
              orders:
                key: [id]
                columns:
                  - { name: id, type: int, required: true }
                  - { name: client_id, type: int, required: true, references: clients.id }
                  - { name: amount, type: decimal, required: true }
            """.write(to: h.dags.appendingPathComponent("shop/rules.yaml"), atomically: true, encoding: .utf8)
        try "-- materialized: partition\nSELECT id, client_id, amount FROM silver_orders WHERE ds = {{ ds }}\n"
            .write(to: h.dags.appendingPathComponent("shop/models/day_orders.sql"), atomically: true, encoding: .utf8)
        try "SELECT COUNT(*) AS orders, SUM(amount) AS total FROM {{ ref('day_orders') }}\n"
            .write(to: h.dags.appendingPathComponent("shop/models/running_total.sql"), atomically: true, encoding: .utf8)
        try h.writeDag("shop", """
            dag_id: shop
            schedule: "@daily"
            start_date: 2024-01-01
            max_active_runs: 1
            params: { note: plain }
            tasks:
              - id: extract
                transform: extract.files
                with: { source: shop, files: ["in/{{ ds }}/clients.csv", "in/{{ ds }}/orders.csv"] }
              - { id: silver, depends_on: [extract], transform: silver.clean, with: { source: shop, rules: shop/rules.yaml } }
              - { id: gold, depends_on: [silver], transform: gold.sql, with: { models: shop/models, silver: [orders] } }
              - { id: load, depends_on: [gold], transform: load.warehouse, with: { tables: [day_orders, running_total] } }
              - { id: note, depends_on: [load], command: 'echo "note={{ params.note }}"' }
            """)
        return h
    }

    func testTestingDayAfterDayBehavesLikeProductionAndKeepsItsRunsApart() throws {
        let h = try makeHarness()
        let first = try h.run(["test", "shop", "--date", "2024-01-01"])
        XCTAssertEqual(first.status, 0, first.stdout + first.stderr)
        XCTAssertTrue(first.stdout.contains("outputs: lake \(h.home.path)/lake, warehouse sqlite://\(h.home.path)/warehouse.db"), first.stdout)
        let second = try h.run(["test", "shop", "--date", "2024-01-02"])
        XCTAssertEqual(second.status, 0, second.stdout + second.stderr)

        // Day 2's order of client 1 (a day-1 client) was kept, and the running total spans both days.
        let warehouse = try DatabaseQueue(path: h.home.appendingPathComponent("warehouse.db").path)
        try warehouse.read { db in
            XCTAssertEqual(try Int.fetchAll(db, sql: "SELECT id FROM day_orders WHERE ds = '2024-01-02' ORDER BY id"), [12, 13, 14])
            let total = try XCTUnwrap(try Row.fetchOne(db, sql: "SELECT orders, total FROM running_total"))
            XCTAssertEqual(total["orders"] as Int, 5)
            XCTAssertEqual(total["total"] as Double, 19, accuracy: 0.001)
        }
        // The scheduler's history holds none of it; the test store does.
        XCTAssertEqual(try h.runs(dag: "shop").count, 0)
        let testRuns = try FileManager.default.contentsOfDirectory(atPath: h.home.appendingPathComponent("test-runs").path)
        XCTAssertEqual(testRuns.count, 2, "\(testRuns)")
        XCTAssertTrue(testRuns.allSatisfy { $0.hasPrefix("shop-") && FileManager.default.fileExists(atPath: h.home.path + "/test-runs/\($0)/orchestrator.db") })
        XCTAssertTrue(second.stdout.contains("logs in \(h.home.path)/test-runs/shop-"), second.stdout)

        // The same day again: a new run of its own, same results.
        let again = try h.run(["test", "shop", "--date", "2024-01-02"])
        XCTAssertEqual(again.status, 0, again.stdout + again.stderr)
        XCTAssertTrue(again.stdout.contains("run manual__2024-01-02T00:00:00Z: success"), again.stdout)
        XCTAssertEqual(try warehouse.read { try Int.fetchOne($0, sql: "SELECT orders FROM running_total") }, 5)

        // --scratch: the home's lake and warehouse stay as they are, even when the environment names them.
        h.extraEnvironment["ORCHESTRATOR_LAKE"] = h.home.appendingPathComponent("lake").path
        let scratch = try h.run(["test", "shop", "--date", "2024-01-03", "--scratch", "--param", "note=scratchy"])
        XCTAssertEqual(scratch.status, 0, scratch.stdout + scratch.stderr)
        XCTAssertTrue(scratch.stdout.contains("note=scratchy"), scratch.stdout)
        XCTAssertFalse(scratch.stdout.contains("outputs: lake \(h.home.path)"), scratch.stdout)
        try warehouse.read { db in
            XCTAssertEqual(try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM day_orders WHERE ds = '2024-01-03'"), 0)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: h.home.appendingPathComponent("lake/bronze/shop/orders/ds=2024-01-03").path))
    }

    /// Test runs do not pile up: the newest 20 folders stay (the new one included), older ones go, and
    /// anything not named like a test run is left alone.
    func testOnlyTheLastTwentyTestRunsAreKept() throws {
        let h = try makeHarness()
        let testRuns = h.home.appendingPathComponent("test-runs")
        // 25 earlier runs, one a minute on 2020-01-01 (older than any real run), of two DAGs.
        let earlier = (0..<25).map { String(format: "%@-2020-01-01T00%02d00Z-%d", $0 % 2 == 0 ? "shop" : "other-dag", $0, 100 + $0) }
        for name in earlier + ["notes"] {
            try FileManager.default.createDirectory(at: testRuns.appendingPathComponent(name), withIntermediateDirectories: true)
        }
        let result = try h.run(["test", "shop", "--date", "2024-01-01"])
        XCTAssertEqual(result.status, 0, result.stdout + result.stderr)
        let left = Set(try FileManager.default.contentsOfDirectory(atPath: testRuns.path))
        let new = left.subtracting(earlier + ["notes"])
        XCTAssertEqual(new.count, 1, "\(left.sorted())")
        let folder = try XCTUnwrap(new.first)
        XCTAssertTrue(folder.hasPrefix("shop-"), folder)
        XCTAssertTrue(result.stdout.contains("test run folder: \(testRuns.path)/\(folder)"), result.stdout)
        // The new run and the 19 newest earlier ones (minutes 06 to 24); "notes" is not a test run.
        XCTAssertEqual(left, Set(earlier.suffix(19) + [folder, "notes"]), "\(left.sorted())")
    }

    func testBackfillPassesItsParamsToTheRunsItCreates() throws {
        let h = try makeHarness()
        let unknown = try h.run(["backfill", "shop", "--start", "2024-01-01", "--end", "2024-01-02", "--param", "nope=1"])
        XCTAssertNotEqual(unknown.status, 0)
        XCTAssertTrue(unknown.stderr.contains("--param 'nope' is not a param of DAG 'shop' (declared: note)"), unknown.stderr)
        XCTAssertEqual(try h.runs(dag: "shop").count, 0, "nothing created after a bad --param")

        let backfill = try h.run(["backfill", "shop", "--start", "2024-01-01", "--end", "2024-01-02", "--param", "note=from-the-backfill"])
        XCTAssertEqual(backfill.status, 0, backfill.stderr)
        for day in ["2024-01-01", "2024-01-02"] {
            XCTAssertTrue(try h.run(["logs", "shop", "note", "--date", day]).stdout.contains("note=from-the-backfill"), day)
        }
    }
}
