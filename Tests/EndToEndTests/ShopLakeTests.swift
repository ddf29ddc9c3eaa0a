import Foundation
import GRDB
import XCTest

/// The shop_lake example end to end: generated dirty drops (text ids, every ISO 8601 form, day-first dates,
/// clients from every country) → bronze → silver → gold → warehouse, checked against gold values that a small
/// Python script computes from the raw drops (ShopExpectation).
final class ShopLakeTests: XCTestCase {
    static var repository: URL { URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent() }

    static func makeHarness(days: Int, start: String = "2024-03-01") throws -> Harness {
        let h = try Harness()
        let source = Self.repository.appendingPathComponent("dags")
        try FileManager.default.copyItem(at: source.appendingPathComponent("shop_lake.yaml"), to: h.dags.appendingPathComponent("shop_lake.yaml"))
        try FileManager.default.copyItem(at: source.appendingPathComponent("shop_lake"), to: h.dags.appendingPathComponent("shop_lake"))
        // No retries here: a failing day should fail at once rather than wait for the 30 s retry delay.
        let dagFile = h.dags.appendingPathComponent("shop_lake.yaml")
        try String(contentsOf: dagFile, encoding: .utf8).replacingOccurrences(of: "retries: 1", with: "retries: 0")
            .write(to: dagFile, atomically: true, encoding: .utf8)
        let generated = try h.run(["sample", "shop", "--out", h.path("data/shop"), "--start", start, "--days", String(days),
                                   "--clients", "25", "--purchases", "150", "--dirtiness", "0.1", "--seed", "7"])
        XCTAssertEqual(generated.status, 0, generated.stderr)
        return h
    }

    func expectation(_ h: Harness, _ first: String, _ last: String) throws -> ShopExpectation {
        try ShopExpectation.compute(data: h.path("data/shop"), rules: h.dags.appendingPathComponent("shop_lake/rules.yaml").path,
                                    first: first, last: last, scratch: h.root)
    }

    func testTheRulesAcceptEveryIsoCountry() throws {
        let rules = try String(contentsOf: Self.repository.appendingPathComponent("dags/shop_lake/rules.yaml"), encoding: .utf8)
        let block = try XCTUnwrap(rules.range(of: "accepted_values: [")).upperBound
        let list = rules[block...].prefix { $0 != "]" }
        let codes = list.split(separator: ",").map { $0.trimmingCharacters(in: .whitespacesAndNewlines).trimmingCharacters(in: CharacterSet(charactersIn: "\"")) }
        XCTAssertEqual(codes.count, 249)
        XCTAssertEqual(Set(codes).count, 249)
        for code in ["FR", "NO", "AX", "SS", "GB", "US", "ZW"] { XCTAssertTrue(codes.contains(code), code) }
        for code in ["UK", "EU", "XK"] { XCTAssertFalse(codes.contains(code), code) }
    }

    /// scripts/run writes a week of drops over days that may already be in bronze: a day's files must not
    /// depend on the window they were generated in.
    func testADaysDropsAreTheSameWhateverTheGenerationWindow() throws {
        let h = try Harness()
        for (folder, start) in [("early", "2024-03-01"), ("late", "2024-03-04")] {
            let generated = try h.run(["sample", "shop", "--out", h.path(folder), "--start", start, "--days", "7",
                                       "--clients", "20", "--purchases", "120", "--dirtiness", "0.1", "--seed", "7"])
            XCTAssertEqual(generated.status, 0, generated.stderr)
        }
        // Days 2024-03-04 ... 2024-03-07 are in both windows: the 4th to 7th day of one, the 1st to 4th of the other.
        for day in ["2024-03-04", "2024-03-05", "2024-03-06", "2024-03-07"] {
            for file in ["clients.csv", "purchases.csv"] {
                let early = try Data(contentsOf: URL(fileURLWithPath: h.path("early/\(day)/\(file)")))
                let late = try Data(contentsOf: URL(fileURLWithPath: h.path("late/\(day)/\(file)")))
                XCTAssertGreaterThan(early.count, 200, "\(day)/\(file)")
                XCTAssertTrue(early == late, "\(day)/\(file) differs between the two windows")
            }
        }
        // Some purchases are by clients of earlier days (else the check above would not cover them).
        let purchases = try String(contentsOfFile: h.path("early/2024-03-05/purchases.csv"), encoding: .utf8)
        let clients = try String(contentsOfFile: h.path("early/2024-03-05/clients.csv"), encoding: .utf8)
        let sameDay = Set(clients.components(separatedBy: "\r\n").dropFirst().compactMap { $0.split(separator: ",").first.map(String.init) })
        let buyers = purchases.components(separatedBy: "\r\n").dropFirst().compactMap { line -> String? in
            let fields = line.split(separator: ",", omittingEmptySubsequences: false)
            return fields.count > 1 && !fields[1].isEmpty ? String(fields[1]) : nil
        }
        XCTAssertTrue(buyers.contains { !sameDay.contains($0) && !$0.hasPrefix("C9") }, "no purchase by an earlier day's client")
    }

    func testShopLakeGoldMatchesValuesComputedFromTheRawDrops() throws {
        let h = try Self.makeHarness(days: 4)
        let days = ["2024-03-01", "2024-03-02", "2024-03-03", "2024-03-04"]
        let backfill = try h.run(["backfill", "shop_lake", "--start", days[0], "--end", days[3]])
        let silverLog = try h.run(["logs", "shop_lake", "silver", "--date", days[0]]).stdout
        XCTAssertEqual(backfill.status, 0, backfill.stderr + silverLog)
        let expected = try expectation(h, days[0], days[3])
        XCTAssertEqual(expected.days, days)
        let all = days.flatMap { expected.fact_sales[$0] ?? [] }
        XCTAssertGreaterThan(all.count, 450)
        // The drops hold the shapes this test is about (else it would prove nothing).
        let raw = try days.map { try String(contentsOfFile: h.path("data/shop/\($0)/purchases.csv"), encoding: .utf8) }.joined()
        for shape in [#"P\d{5,},C\d{4,}"#, #"T\d\d:\d\d:\d\dZ"#, #"[+-]\d\d:\d\d\r"#, #"[+-]\d{4}\r"#, #"\.\d{3}Z"#,
                      #",\d{4}-\d\d-\d\d\r"#, #",\d\d/\d\d/\d{4}\r"#, #" \d\d:\d\d:\d\d\+00:00"#] {
            XCTAssertNotNil(raw.range(of: shape, options: .regularExpression), "no \(shape) in the drops")
        }
        XCTAssertGreaterThan(Set(all.map(\.country)).count, 15, "clients from many countries")
        XCTAssertTrue(all.contains { $0.purchase_date == "2024-02-29" }, "the shop's first hour is the UTC day before")

        let warehouse = try DatabaseQueue(path: h.home.appendingPathComponent("warehouse.db").path)
        try warehouse.read { db in
            for day in days {
                let want = try XCTUnwrap(expected.daily_sales[day])
                let row = try XCTUnwrap(try Row.fetchOne(db, sql: "SELECT orders, revenue, customers FROM daily_sales WHERE date = ?", arguments: [day]))
                XCTAssertEqual(row["orders"] as Int, want.orders, day)
                XCTAssertEqual(row["revenue"] as Double, want.revenue, accuracy: 0.005, day)
                XCTAssertEqual(row["customers"] as Int, want.customers, day)
                // fact_sales: every kept purchase of the day once, with its UTC date and its client's country.
                let facts = try Row.fetchAll(db, sql: "SELECT * FROM fact_sales WHERE ds = ?", arguments: [day])
                let wanted = Dictionary(uniqueKeysWithValues: (expected.fact_sales[day] ?? []).map { ($0.purchase_id, $0) })
                XCTAssertEqual(Set(facts.map { $0["purchase_id"] as String }), Set(wanted.keys), day)
                for fact in facts {
                    guard let want = wanted[fact["purchase_id"] as String] else { continue }
                    XCTAssertEqual(fact["client_id"] as String, want.client_id)
                    XCTAssertEqual(fact["product"] as String, want.product)
                    XCTAssertEqual(fact["quantity"] as Int, want.quantity)
                    XCTAssertEqual(fact["amount"] as Double, want.amount, accuracy: 0.005)
                    XCTAssertEqual(fact["purchase_date"] as String, want.purchase_date, want.purchase_id)
                    XCTAssertEqual(fact["country"] as String, want.country, want.purchase_id)
                }
            }
            let kpis = try Row.fetchAll(db, sql: "SELECT * FROM client_kpis")
            XCTAssertEqual(Set(kpis.map { $0["client_id"] as String }), Set(expected.client_kpis.keys))
            for row in kpis {
                let client: String = row["client_id"]
                guard let want = expected.client_kpis[client] else { continue }
                XCTAssertEqual(row["orders"] as Int, want.orders, client)
                XCTAssertEqual(row["total_spent"] as Double, want.total_spent, accuracy: 0.005, client)
                XCTAssertEqual(row["first_purchase"] as String, want.first_purchase, client)
                XCTAssertEqual(row["last_purchase"] as String, want.last_purchase, client)
                XCTAssertEqual(row["recency_days"] as Int, want.recency_days, client)
                XCTAssertEqual(row["rfm_segment"] as String, want.rfm_segment, client)
            }
            let countries = try Row.fetchAll(db, sql: "SELECT * FROM country_analytics")
            XCTAssertEqual(Set(countries.map { $0["country"] as String }), Set(expected.country_analytics.keys))
            for row in countries {
                let country: String = row["country"]
                guard let want = expected.country_analytics[country] else { continue }
                XCTAssertEqual(row["orders"] as Int, want.orders, country)
                XCTAssertEqual(row["revenue"] as Double, want.revenue, accuracy: 0.005, country)
                XCTAssertEqual(row["revenue_share"] as Double, want.revenue_share, accuracy: 0.0101, country)
            }
            for row in try Row.fetchAll(db, sql: "SELECT * FROM product_analytics") {
                let product: String = row["product"]
                XCTAssertEqual(row["units"] as Int, expected.product_units[product], product)
            }
        }

        // Silver dates: a signup written as a timestamp keeps its UTC date; day-first dates are read day first.
        for day in days {
            let silver = try String(contentsOfFile: h.path("home/lake/silver/clients/ds=\(day)/data.csv"), encoding: .utf8)
            let lines = silver.split(whereSeparator: \.isNewline).map(String.init)
            let header = try XCTUnwrap(lines.first).split(separator: ",").map(String.init)
            let idColumn = try XCTUnwrap(header.firstIndex(of: "client_id")), dateColumn = try XCTUnwrap(header.firstIndex(of: "signup_date"))
            let got = Dictionary(lines.dropFirst().map { line -> (String, String) in
                let fields = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
                return (fields[idColumn], fields[dateColumn])
            }, uniquingKeysWith: { $1 })
            let want = try XCTUnwrap(expected.signup_dates[day])
            XCTAssertEqual(Set(got.keys), Set(want.keys), day)
            for (client, date) in want { XCTAssertEqual(got[client], date ?? "", "\(day) \(client)") }
        }

        // Rejects are explained: every rejected purchase row names its rule and reason.
        let rejects = h.lines("home/lake/silver/purchases/ds=2024-03-02/rejects.csv")
        XCTAssertEqual(rejects.first, "_file,_line,_rule,_reason,purchase_id,client_id,product,quantity,unit_price,purchase_date")
        XCTAssertGreaterThan(rejects.count, 1)

        // Re-running every day replaces the partitions: same results, no second copy.
        let before = try warehouse.read { try Row.fetchAll($0, sql: "SELECT * FROM daily_sales ORDER BY date") }
        let reset = try h.run(["backfill", "shop_lake", "--start", days[0], "--end", days[3], "--reset"])
        XCTAssertEqual(reset.status, 0, reset.stderr)
        try warehouse.read { db in
            XCTAssertEqual(try Row.fetchAll(db, sql: "SELECT * FROM daily_sales ORDER BY date"), before)
            XCTAssertEqual(try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM fact_sales"), all.count)
        }
    }

    func testAFailingQualityTestFailsTheTaskWithAReadableReason() throws {
        let h = try Self.makeHarness(days: 1)
        let tests = h.dags.appendingPathComponent("shop_lake/quality.yaml")
        try """
            tests:
              - { table: daily_sales, row_count: { max: 0 } }
              - { name: warn_only, sql: "SELECT 1 AS one", severity: warn }
            """.write(to: tests, atomically: true, encoding: .utf8)
        let backfill = try h.run(["backfill", "shop_lake", "--start", "2024-03-01", "--end", "2024-03-01"])
        XCTAssertEqual(backfill.status, 1)
        let tasks = try h.tasks(dag: "shop_lake", date: "2024-03-01")
        XCTAssertEqual(tasks["load"]?["state"] as? String, "success")
        XCTAssertEqual(tasks["quality"]?["state"] as? String, "failed")
        let log = try h.run(["logs", "shop_lake", "quality", "--date", "2024-03-01"]).stdout
        XCTAssertTrue(log.contains("quality.check: FAIL daily_sales.row_count(max 0): 1 failing row"), log)
        XCTAssertTrue(log.contains("quality.check: WARN warn_only"), log)
        XCTAssertTrue(log.contains("1 of 2 tests failed: daily_sales.row_count(max 0)"), log)
    }
}
