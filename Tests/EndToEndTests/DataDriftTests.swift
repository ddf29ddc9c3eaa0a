import Foundation
import GRDB
import XCTest

/// Drops that drift from what the rules expect fail loudly, day by day: the broken day fails, the clean days
/// around it succeed (issue 10, "Fail loudly").
final class DataDriftTests: XCTestCase {
    func makeHarness(days: Int) throws -> Harness { try ShopLakeTests.makeHarness(days: days) }

    /// A source that switches its prices to a decimal comma for one day: that day fails loudly (every price is
    /// rejected, far above the reject limit), the clean days before and after it succeed.
    func testADayWithDecimalCommaPricesFailsAndTheDaysAroundItSucceed() throws {
        let h = try makeHarness(days: 3)
        let days = ["2024-03-01", "2024-03-02", "2024-03-03"]
        let file = h.path("data/shop/\(days[1])/purchases.csv")
        let text = try String(contentsOfFile: file, encoding: .utf8)
        // 899.00 → "899,00": quoted, as a CSV writer must once the field holds a comma.
        let comma = text.replacingOccurrences(of: #",(-?\d+)\.(\d\d),"#, with: #","$1,$2","#, options: .regularExpression)
        XCTAssertNotEqual(comma, text)
        try comma.write(toFile: file, atomically: true, encoding: .utf8)

        let backfill = try h.run(["backfill", "shop_lake", "--start", days[0], "--end", days[2]])
        XCTAssertEqual(backfill.status, 1, backfill.stderr)
        XCTAssertEqual(try h.tasks(dag: "shop_lake", date: days[0])["quality"]?["state"] as? String, "success")
        XCTAssertEqual(try h.tasks(dag: "shop_lake", date: days[2])["quality"]?["state"] as? String, "success")
        let failed = try h.tasks(dag: "shop_lake", date: days[1])
        XCTAssertEqual(failed["silver"]?["state"] as? String, "failed")
        XCTAssertEqual(failed["gold"]?["state"] as? String, "upstream_failed")
        let log = try h.run(["logs", "shop_lake", "silver", "--date", days[1]]).stdout
        XCTAssertTrue(log.contains("table purchases ds=\(days[1])") && log.contains("above max_reject_ratio 0.5"), log)
        XCTAssertNotNil(log.range(of: #"purchases.csv:\d+: type: unit_price '\d+,\d\d' is not a number"#, options: .regularExpression), log)
        // Nothing of the broken day reached the warehouse.
        let warehouse = try DatabaseQueue(path: h.home.appendingPathComponent("warehouse.db").path)
        try warehouse.read { db in
            XCTAssertEqual(try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM fact_sales WHERE ds = ?", arguments: [days[1]]), 0)
            XCTAssertGreaterThan(try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM fact_sales WHERE ds = ?", arguments: [days[2]]) ?? 0, 0)
        }
        // The source fixes its export; running that day again from its extract brings it in.
        try text.write(toFile: file, atomically: true, encoding: .utf8)
        let rerun = try h.run(["backfill", "shop_lake", "--start", days[1], "--end", days[1], "--reset"])
        XCTAssertEqual(rerun.status, 0, rerun.stderr)
        try warehouse.read { db in
            XCTAssertGreaterThan(try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM fact_sales WHERE ds = ?", arguments: [days[1]]) ?? 0, 100)
        }
    }
}
