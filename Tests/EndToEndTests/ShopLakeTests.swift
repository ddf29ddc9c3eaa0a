import Foundation
import GRDB
import XCTest

/// The shop_lake example end to end: generated dirty drops → bronze → silver → gold → warehouse, checked
/// against gold values computed here from the generator's truth files (the clean rows it dirtied).
final class ShopLakeTests: XCTestCase {
    static var repository: URL { URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent() }

    func makeHarness(days: Int) throws -> Harness {
        let h = try Harness()
        let source = Self.repository.appendingPathComponent("dags")
        try FileManager.default.copyItem(at: source.appendingPathComponent("shop_lake.yaml"), to: h.dags.appendingPathComponent("shop_lake.yaml"))
        try FileManager.default.copyItem(at: source.appendingPathComponent("shop_lake"), to: h.dags.appendingPathComponent("shop_lake"))
        // No retries here: a failing day should fail at once rather than wait for the 30 s retry delay.
        let dagFile = h.dags.appendingPathComponent("shop_lake.yaml")
        try String(contentsOf: dagFile, encoding: .utf8).replacingOccurrences(of: "retries: 1", with: "retries: 0")
            .write(to: dagFile, atomically: true, encoding: .utf8)
        let generated = try h.run(["sample", "shop", "--out", h.path("data/shop"), "--start", "2024-03-01", "--days", String(days),
                                   "--clients", "25", "--purchases", "150", "--dirtiness", "0.1", "--seed", "7"])
        XCTAssertEqual(generated.status, 0, generated.stderr)
        return h
    }

    struct Purchase {
        let id: Int, client: Int, product: String, quantity: Int, price: Double, day: String
        var amount: Double { (Double(quantity) * price * 100).rounded() / 100 }
    }

    func truth(_ h: Harness, days: [String]) throws -> (purchases: [Purchase], countries: [Int: String]) {
        var purchases: [Purchase] = []
        var countries: [Int: String] = [:]
        for day in days {
            for line in try lines(h, "data/shop/_truth/\(day)/clients.csv").dropFirst() {
                let fields = line.trimmingCharacters(in: .newlines).split(separator: ",", omittingEmptySubsequences: false).map(String.init)
                countries[Int(fields[0]) ?? 0] = fields[4]
            }
            for line in try lines(h, "data/shop/_truth/\(day)/purchases.csv").dropFirst() {
                let f = line.trimmingCharacters(in: .newlines).split(separator: ",").map(String.init)
                purchases.append(Purchase(id: Int(f[0]) ?? 0, client: Int(f[1]) ?? 0, product: f[2], quantity: Int(f[3]) ?? 0,
                                          price: Double(f[4]) ?? 0, day: String(f[5].prefix(10))))
            }
        }
        return (purchases, countries)
    }

    /// The generator writes CRLF, which Swift treats as one Character: split on any line break.
    func lines(_ h: Harness, _ name: String) throws -> [String] {
        try String(contentsOfFile: h.path(name), encoding: .utf8).components(separatedBy: .newlines).filter { !$0.isEmpty }
    }

    func round2(_ value: Double) -> Double { (value * 100).rounded() / 100 }

    func testShopLakeGoldMatchesValuesComputedFromTheTruth() throws {
        let h = try makeHarness(days: 4)
        let days = ["2024-03-01", "2024-03-02", "2024-03-03", "2024-03-04"]
        let backfill = try h.run(["backfill", "shop_lake", "--start", days[0], "--end", days[3]])
        XCTAssertEqual(backfill.status, 0, backfill.stderr)
        let (purchases, countries) = try truth(h, days: days)
        XCTAssertGreaterThan(purchases.count, 400)

        let warehouse = try DatabaseQueue(path: h.home.appendingPathComponent("warehouse.db").path)
        try warehouse.read { db in
            // daily_sales: one row per day
            for day in days {
                let ofDay = purchases.filter { $0.day == day }
                let row = try XCTUnwrap(try Row.fetchOne(db, sql: "SELECT orders, revenue, customers FROM daily_sales WHERE date = ?", arguments: [day]))
                XCTAssertEqual(row["orders"] as Int, ofDay.count, day)
                XCTAssertEqual(row["revenue"] as Double, round2(ofDay.map(\.amount).reduce(0, +)), accuracy: 0.005, day)
                XCTAssertEqual(row["customers"] as Int, Set(ofDay.map(\.client)).count, day)
            }
            // fact_sales holds exactly the clean purchases, once each
            XCTAssertEqual(try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM fact_sales"), purchases.count)
            XCTAssertEqual(Set(try Int.fetchAll(db, sql: "SELECT purchase_id FROM fact_sales")), Set(purchases.map(\.id)))

            // client_kpis as of the last day
            let byClient = Dictionary(grouping: purchases, by: \.client)
            let kpis = try Row.fetchAll(db, sql: "SELECT * FROM client_kpis")
            XCTAssertEqual(kpis.count, byClient.count)
            let formatter = DateFormatter()
            formatter.dateFormat = "yyyy-MM-dd"
            formatter.timeZone = TimeZone(secondsFromGMT: 0)
            for row in kpis {
                let client: Int = row["client_id"]
                let mine = try XCTUnwrap(byClient[client])
                let last = mine.map(\.day).max() ?? ""
                let recency = Int(((formatter.date(from: days[3])?.timeIntervalSince1970 ?? 0) - (formatter.date(from: last)?.timeIntervalSince1970 ?? 0)) / 86_400)
                XCTAssertEqual(row["orders"] as Int, mine.count)
                XCTAssertEqual(row["total_spent"] as Double, round2(mine.map(\.amount).reduce(0, +)), accuracy: 0.005)
                XCTAssertEqual(row["first_purchase"] as String, mine.map(\.day).min())
                XCTAssertEqual(row["last_purchase"] as String, last)
                XCTAssertEqual(row["recency_days"] as Int, recency)
                let segment = recency <= 7 && mine.count >= 3 ? "champion" : mine.count >= 3 ? "loyal" : recency <= 7 ? "recent" : recency > 30 ? "at_risk" : "regular"
                XCTAssertEqual(row["rfm_segment"] as String, segment, "client \(client)")
            }
            // country_analytics with revenue shares
            let total = purchases.map(\.amount).reduce(0, +)
            for row in try Row.fetchAll(db, sql: "SELECT * FROM country_analytics") {
                let country: String = row["country"]
                let mine = purchases.filter { countries[$0.client] == country }
                XCTAssertEqual(row["orders"] as Int, mine.count, country)
                XCTAssertEqual(row["revenue"] as Double, round2(mine.map(\.amount).reduce(0, +)), accuracy: 0.005, country)
                XCTAssertEqual(row["revenue_share"] as Double, round2(100 * mine.map(\.amount).reduce(0, +) / total), accuracy: 0.005, country)
            }
            // product_analytics
            for row in try Row.fetchAll(db, sql: "SELECT * FROM product_analytics") {
                let product: String = row["product"]
                let mine = purchases.filter { $0.product == product }
                XCTAssertEqual(row["units"] as Int, mine.map(\.quantity).reduce(0, +), product)
            }
        }

        // Rejects are explained: every rejected purchase row names its rule and reason.
        let rejects = h.lines("home/lake/silver/purchases/ds=2024-03-02/rejects.csv")
        XCTAssertEqual(rejects.first, "_file,_line,_rule,_reason,purchase_id,client_id,product,quantity,unit_price,purchase_date")
        XCTAssertGreaterThan(rejects.count, 1)
        let quality = try JSONSerialization.jsonObject(with: Data(contentsOf: h.home.appendingPathComponent("lake/silver/purchases/ds=2024-03-02/quality.json"))) as? [String: Any]
        XCTAssertEqual((quality?["rows_in"] as? Int).map { $0 - ((quality?["rejected_total"] as? Int) ?? 0) }, quality?["rows_out"] as? Int)

        // Re-running every day replaces the partitions: same results, no second copy.
        let before = try warehouse.read { try Row.fetchAll($0, sql: "SELECT * FROM daily_sales ORDER BY date") }
        let reset = try h.run(["backfill", "shop_lake", "--start", days[0], "--end", days[3], "--reset"])
        XCTAssertEqual(reset.status, 0, reset.stderr)
        try warehouse.read { db in
            XCTAssertEqual(try Row.fetchAll(db, sql: "SELECT * FROM daily_sales ORDER BY date"), before)
            XCTAssertEqual(try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM fact_sales"), purchases.count)
        }
    }

    func testAFailingQualityTestFailsTheTaskWithAReadableReason() throws {
        let h = try makeHarness(days: 1)
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
