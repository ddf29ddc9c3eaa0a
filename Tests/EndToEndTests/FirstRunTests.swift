import Foundation
import GRDB
import XCTest

/// scripts/run on a fresh home, as a new user starts: its setup steps (sample drops for the last week, the
/// catch-up over them) leave yesterday's shop_lake run keeping nearly all of yesterday's purchases, because
/// the clients of the earlier drops are in the lake; the task page shows the rows in and out.
final class FirstRunTests: XCTestCase {
    let http = HTTPClient()

    func testFirstRunKeepsYesterdaysPurchasesAndTheTaskPageShowsIt() throws {
        let h = try Harness()
        let dags = ShopLakeTests.repository.appendingPathComponent("dags")
        for name in ["shop_lake.yaml", "shop_lake", "social_elt.yaml", "social_elt"] {
            try FileManager.default.copyItem(at: dags.appendingPathComponent(name), to: h.dags.appendingPathComponent(name))
        }
        let setup = Process()
        setup.executableURL = ShopLakeTests.repository.appendingPathComponent("scripts/run")
        setup.arguments = ["--setup-only"]
        var environment = h.environment
        environment["ORCHESTRATOR_BIN"] = Harness.orchestrator
        environment["ORCHESTRATOR_CONN_SOCIAL_DB"] = nil
        setup.environment = environment
        let log = h.root.appendingPathComponent("setup.log")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        setup.standardOutput = try FileHandle(forWritingTo: log)
        setup.standardError = setup.standardOutput
        try setup.run()
        setup.waitUntilExit()
        let setupLog = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        XCTAssertEqual(setup.terminationStatus, 0, setupLog)
        XCTAssertTrue(setupLog.contains("catching up shop_lake"), setupLog)

        let formatter = DateFormatter()
        formatter.dateFormat = "yyyy-MM-dd"
        formatter.timeZone = TimeZone(secondsFromGMT: 0)
        let yesterday = formatter.string(from: Date().addingTimeInterval(-86_400))
        // The week of drops ends yesterday, and every day of it ran.
        let drop = try String(contentsOfFile: h.path("data/shop/\(yesterday)/purchases.csv"), encoding: .utf8)
        let sampleRows = drop.components(separatedBy: "\r\n").dropFirst().filter { !$0.isEmpty }.count
        XCTAssertGreaterThanOrEqual(sampleRows, 500)
        let runs = try h.runs(dag: "shop_lake")
        XCTAssertEqual(runs.count, 7, "\(runs)")
        XCTAssertEqual(Set(runs.compactMap { $0["state"] as? String }), ["success"], setupLog)

        let warehouse = try DatabaseQueue(path: h.home.appendingPathComponent("warehouse.db").path)
        let kept = try warehouse.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM fact_sales WHERE ds = ?", arguments: [yesterday]) } ?? 0
        XCTAssertGreaterThanOrEqual(Double(kept), 0.9 * Double(sampleRows), "kept \(kept) of \(sampleRows) purchases")
        let quality = try JSONSerialization.jsonObject(with: Data(contentsOf: h.home.appendingPathComponent(
            "lake/silver/purchases/ds=\(yesterday)/quality.json"))) as? [String: Any]
        let rowsIn = try XCTUnwrap(quality?["rows_in"] as? Int), rowsOut = try XCTUnwrap(quality?["rows_out"] as? Int)
        XCTAssertEqual(rowsIn, sampleRows)
        XCTAssertEqual(rowsOut, kept)

        // The task page of yesterday's silver task says so.
        let run = try XCTUnwrap(runs.first { ($0["logical_date"] as? String)?.hasPrefix(yesterday) == true }?["run_id"] as? String, "\(runs)")
        try h.startDaemon()
        defer { h.stopDaemon() }
        let page = try http.get(try XCTUnwrap(h.webURL) + "dags/shop_lake/runs/\(HTTPClient.encoded(run))/tasks/silver")
        XCTAssertEqual(page.status, 200)
        XCTAssertTrue(page.body.contains("silver/purchases/ds=\(yesterday)"), page.body)
        XCTAssertTrue(page.body.contains("\(rowsIn) in, \(rowsOut) out"), page.body)
    }
}
