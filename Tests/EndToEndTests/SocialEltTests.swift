import Foundation
import GRDB
import XCTest

/// social_elt end to end: scripts/seed-social fills a real PostgreSQL database, the DAG extracts it by
/// snapshot and by data interval, cleans it (EUR conversion, unknown currencies and event types rejected) and
/// builds the two gold tables, which are checked against values computed here from the generator's truth.
final class SocialEltTests: PostgresTestCase {
    func testSocialEltGoldMatchesValuesComputedFromTheTruth() throws {
        let h = try Harness()
        h.extraEnvironment["ORCHESTRATOR_CONN_SOCIAL_DB"] = databaseURL
        h.extraEnvironment["ORCHESTRATOR_CONN_REPORTING_DB"] = databaseURL
        let repository = ShopLakeTests.repository
        let seed = Process()
        seed.executableURL = repository.appendingPathComponent("scripts/seed-social")
        seed.arguments = ["--url", databaseURL, "--start", "2024-06-01", "--days", "2", "--users", "30", "--out", h.path("social")]
        seed.environment = ProcessInfo.processInfo.environment.merging(["ORCHESTRATOR_BIN": Harness.orchestrator]) { $1 }
        try seed.run()
        seed.waitUntilExit()
        XCTAssertEqual(seed.terminationStatus, 0, "scripts/seed-social failed")

        let dags = repository.appendingPathComponent("dags")
        try FileManager.default.copyItem(at: dags.appendingPathComponent("social_elt"), to: h.dags.appendingPathComponent("social_elt"))
        let dagText = try String(contentsOf: dags.appendingPathComponent("social_elt.yaml"), encoding: .utf8)
            .replacingOccurrences(of: "retries: 2", with: "retries: 0")
        try h.writeDag("social_elt", dagText)

        let days = ["2024-06-01", "2024-06-02"]
        let backfill = try h.run(["backfill", "social_elt", "--start", days[0], "--end", days[1]])
        if backfill.status != 0 {
            for task in ["extract", "silver", "gold", "load", "quality"] {
                print(try h.run(["logs", "social_elt", task, "--date", days[0]]).stdout)
            }
        }
        XCTAssertEqual(backfill.status, 0, backfill.stderr)

        func rows(_ name: String) throws -> [[String]] {
            let reader = try String(contentsOfFile: h.path("social/truth/\(name).csv"), encoding: .utf8)
            return reader.split(separator: "\n").dropFirst().map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        }
        let rates = ["EUR": 1.0, "USD": 0.92, "GBP": 1.17]
        let sessions = try rows("sessions").map { (user: Int($0[0])!, start: Int($0[2])!, end: Int($0[3])) }
        let messages = try rows("messages").map { (user: Int($0[0])!, time: Int($0[2])!) }
        let purchases = try rows("purchases").map { (user: Int($0[0])!, time: Int($0[2])!, eur: (Double($0[3]) ?? 0) * (rates[$0[4]] ?? 0)) }
        let notifications = try rows("notifications").map { (user: Int($0[0])!, id: Int($0[1])!, content: $0[2], time: Int($0[3])!, opened: $0[4] == "1") }
        XCTAssertGreaterThan(sessions.count, 20)

        let warehouse = try DatabaseQueue(path: h.home.appendingPathComponent("warehouse.db").path)
        let firstDay = 1_717_200_000  // 2024-06-01T00:00:00Z
        for (index, day) in days.enumerated() {
            let dayStart = firstDay + index * 86_400, dayEnd = dayStart + 86_400
            func inDay(_ time: Int) -> Bool { time >= dayStart && time < dayEnd }
            func seconds(_ session: (user: Int, start: Int, end: Int?)) -> Int {
                guard let end = session.end, end < dayEnd else { return 0 }
                return end - session.start
            }
            let daySessions = sessions.filter { inDay($0.start) }
            let active = Set(daySessions.map(\.user)).union(messages.filter { inDay($0.time) }.map(\.user))
                .union(purchases.filter { inDay($0.time) }.map(\.user))
            try warehouse.read { db in
                let activity = try Row.fetchAll(db, sql: "SELECT * FROM global_user_activity_per_day WHERE ds = ? ORDER BY user_id", arguments: [day])
                XCTAssertEqual(activity.map { $0["user_id"] as Int }, active.sorted(), day)
                for row in activity {
                    let user: Int = row["user_id"]
                    let mine = daySessions.filter { $0.user == user }
                    XCTAssertEqual(row["date"] as String, day)
                    XCTAssertEqual(row["total_nbr_connexion"] as Int, mine.count, "\(day) user \(user)")
                    XCTAssertEqual(row["total_spend_time"] as Int, mine.map(seconds).reduce(0, +), "\(day) user \(user)")
                    XCTAssertEqual(row["total_message_send_this_day"] as Int, messages.filter { $0.user == user && inDay($0.time) }.count)
                    let spent = purchases.filter { $0.user == user && inDay($0.time) }.map(\.eur).reduce(0, +)
                    XCTAssertEqual(row["total_money_spend"] as Double, (spent * 100).rounded() / 100, accuracy: 0.005, "\(day) user \(user)")
                }
                let impact = try Row.fetchAll(db, sql: "SELECT * FROM global_notif_impact_per_day WHERE ds = ? ORDER BY notification_id", arguments: [day])
                let dayNotifications = notifications.filter { inDay($0.time) }
                XCTAssertEqual(impact.map { $0["notification_id"] as Int }, dayNotifications.map(\.id).sorted(), day)
                for row in impact {
                    let id: Int = row["notification_id"]
                    guard let note = dayNotifications.first(where: { $0.id == id }) else { continue }
                    XCTAssertEqual(row["user_id"] as Int, note.user)
                    XCTAssertEqual(row["content_notif"] as String, note.content)
                    XCTAssertEqual(row["notif_date"] as String, day)
                    XCTAssertEqual(row["is_success"] as Int, note.opened ? 1 : 0, "notification \(id)")
                    let after = daySessions.filter { $0.user == note.user && $0.start >= note.time && $0.start <= note.time + 3600 }
                    XCTAssertEqual(row["time_spend_after_success"] as Int, note.opened ? after.map(seconds).reduce(0, +) : 0, "notification \(id)")
                }
            }
        }
        // The same rows were published into PostgreSQL's reporting schema.
        for table in ["global_user_activity_per_day", "global_notif_impact_per_day"] {
            let local = try warehouse.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM \(table)") } ?? -1
            XCTAssertEqual(try psql(databaseURL, "SELECT COUNT(*) FROM reporting.\(table)"), String(local), table)
        }
        XCTAssertEqual(try psql(databaseURL, "SELECT ROUND(SUM(total_money_spend)::numeric, 2) FROM reporting.global_user_activity_per_day"),
                       try warehouse.read { try String.fetchOne($0, sql: "SELECT printf('%.2f', SUM(total_money_spend)) FROM global_user_activity_per_day") })

        // The password column never leaves bronze, and unknown currencies are rejected with a reason.
        let silverUsers = try String(contentsOfFile: h.path("home/lake/silver/users/ds=2024-06-01/data.csv"), encoding: .utf8)
        XCTAssertFalse(silverUsers.contains("password") || silverUsers.contains("hash$"))
        // The seeded data (fixed seed) holds XYZ purchases of users with an email on 2024-06-02.
        let rejects = try String(contentsOfFile: h.path("home/lake/silver/user_purchases/ds=2024-06-02/rejects.csv"), encoding: .utf8)
        XCTAssertTrue(rejects.contains(",currency,currency 'XYZ' has no rate in the rates file,"), rejects)
    }
}
