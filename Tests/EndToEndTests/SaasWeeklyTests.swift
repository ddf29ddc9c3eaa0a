import Foundation
import GRDB
import XCTest

/// The saas_weekly example end to end: generated dirty weekly drops (snapshots and the week's events) →
/// bronze → silver → weekly marts → warehouse, checked against marts computed in Swift from the raw files
/// (SaasWeeklyExpectation), then a `--reset` backfill that must give the same marts.
final class SaasWeeklyTests: XCTestCase {
    static let weeks = ["2024-02-05", "2024-02-12", "2024-02-19"]
    static let marts = ["mart_user_activity_weekly", "mart_task_productivity_weekly", "mart_user_retention_w4", "mart_exec_scorecard_weekly"]

    /// A harness with the DAG (no retries) and `weeks` weeks of drops from `start`.
    static func makeHarness(start: String = weeks[0], weeks: Int = weeks.count) throws -> Harness {
        let h = try Harness()
        let source = ShopLakeTests.repository.appendingPathComponent("dags")
        for name in ["saas_weekly.yaml", "saas_weekly"] {
            try FileManager.default.copyItem(at: source.appendingPathComponent(name), to: h.dags.appendingPathComponent(name))
        }
        let dagFile = h.dags.appendingPathComponent("saas_weekly.yaml")
        try String(contentsOf: dagFile, encoding: .utf8).replacingOccurrences(of: "retries: 1", with: "retries: 0")
            .write(to: dagFile, atomically: true, encoding: .utf8)
        let generated = try h.run(["sample", "saas", "--out", h.path("data/saas"), "--start", start, "--weeks", String(weeks),
                                   "--users", "25", "--tasks", "90", "--events", "1500", "--dirtiness", "0.08", "--seed", "5"])
        XCTAssertEqual(generated.status, 0, generated.stderr)
        return h
    }

    func testTheMartsMatchValuesComputedFromTheRawDropsAndAResetGivesTheSame() throws {
        let h = try Self.makeHarness()
        let weeks = Self.weeks
        let backfill = try h.run(["backfill", "saas_weekly", "--start", weeks[0], "--end", weeks[2]])
        let silverLog = try h.run(["logs", "saas_weekly", "silver", "--date", weeks[0]]).stdout
        XCTAssertEqual(backfill.status, 0, backfill.stderr + silverLog)
        XCTAssertEqual(try h.runStates(dag: "saas_weekly"), ["success", "success", "success"])

        // The drops hold the imperfections this test is about (else it would prove nothing).
        let raw = try weeks.map { try String(contentsOfFile: h.path("data/saas/\($0)/events.csv"), encoding: .utf8) }.joined()
        let tasks = try String(contentsOfFile: h.path("data/saas/\(weeks[2])/tasks.csv"), encoding: .utf8)
        for shape in [#"T\d\d:\d\d:\d\dZ"#, #"[+-]\d\d:\d\d,"#, #"[+-]\d{4},"#, #"\.\d{3}Z"#, #" \d\d:\d\d:\d\d\+00:00"#,
                      #",9\d{8},"#, #",signup,"#, #", [A-Z_]+,"#] {
            XCTAssertNotNil(raw.range(of: shape, options: .regularExpression), "no \(shape) in the events")
        }
        let eventLines = raw.split(separator: "\n").filter { !$0.hasPrefix("event_id") }
        XCTAssertLessThan(Set(eventLines).count, eventLines.count, "no duplicate events")
        XCTAssertNotNil(tasks.range(of: #"^\d+,\d+,\d+,,"#, options: [.regularExpression, .anchored]) ?? tasks.range(of: #"\n\d+,\d+,\d+,,"#, options: .regularExpression),
                        "no task without an assignee")
        let expected = try SaasWeeklyExpectation.compute(data: h.path("data/saas"), weeks: weeks)
        let completedBeforeCreated = try SaasWeeklyExpectation.rows(h.path("data/saas/\(weeks[2])/tasks.csv")).filter { row in
            guard let created = SaasWeeklyExpectation.instant(row["created_at"]), let done = SaasWeeklyExpectation.instant(row["completed_at"]) else { return false }
            return done < created
        }
        XCTAssertFalse(completedBeforeCreated.isEmpty, "no task completed before it was created")
        let lastEnd = try XCTUnwrap(SaasWeeklyExpectation.instant("\(weeks[2])T00:00:00Z")) + SaasWeeklyExpectation.week
        let future = try SaasWeeklyExpectation.rows(h.path("data/saas/\(weeks[2])/events.csv")).filter { row in
            SaasWeeklyExpectation.instant(row["occurred_at"]).map { $0 >= lastEnd } == true
        }
        XCTAssertFalse(future.isEmpty, "no event dated after its week")

        let warehouse = try DatabaseQueue(path: h.home.appendingPathComponent("warehouse.db").path)
        try warehouse.read { db in
            for week in weeks {
                // Silver kept what the rule keeps.
                let quality = try JSONSerialization.jsonObject(with: Data(contentsOf: h.home.appendingPathComponent(
                    "lake/silver/events/ds=\(week)/quality.json"))) as? [String: Any]
                XCTAssertEqual(quality?["rows_out"] as? Int, expected.silverEvents[week], week)

                let activity = try Row.fetchAll(db, sql: "SELECT * FROM mart_user_activity_weekly WHERE ds = ?", arguments: [week])
                let wantActivity = try XCTUnwrap(expected.activity[week])
                XCTAssertGreaterThan(wantActivity.count, 10, week)
                XCTAssertEqual(Set(activity.map { $0["account_id"] as Int }), Set(wantActivity.keys), week)
                for row in activity {
                    XCTAssertEqual(row["week_start"] as String, week)
                    let got = SaasWeeklyExpectation.Activity(activeUsers: row["active_users"], events: row["events"], tasksCreated: row["tasks_created"],
                                                             tasksCompleted: row["tasks_completed"], comments: row["comments"])
                    XCTAssertEqual(got, wantActivity[row["account_id"] as Int], "\(week) account \(row["account_id"] as Int)")
                }

                let productivity = try Row.fetchAll(db, sql: "SELECT * FROM mart_task_productivity_weekly WHERE ds = ?", arguments: [week])
                let wantProductivity = try XCTUnwrap(expected.productivity[week])
                XCTAssertEqual(Set(productivity.map { $0["account_id"] as Int }), Set(wantProductivity.keys), week)
                for row in productivity {
                    let got = SaasWeeklyExpectation.Productivity(tasksCreated: row["tasks_created"], tasksCompleted: row["tasks_completed"],
                                                                 cycleHours: row["avg_cycle_time_hours"])
                    XCTAssertEqual(got, wantProductivity[row["account_id"] as Int], "\(week) account \(row["account_id"] as Int)")
                }

                let retention = try XCTUnwrap(try Row.fetchOne(db, sql: "SELECT * FROM mart_user_retention_w4 WHERE ds = ?", arguments: [week]))
                let wantRetention = try XCTUnwrap(expected.retention[week])
                XCTAssertGreaterThan(wantRetention.cohortSize, 0, week)
                XCTAssertEqual(SaasWeeklyExpectation.Retention(cohortWeek: retention["cohort_week"], cohortSize: retention["cohort_size"],
                                                               retained: retention["retained_w4"], rate: retention["retention_w4_rate"]), wantRetention, week)

                let scorecard = try XCTUnwrap(try Row.fetchOne(db, sql: "SELECT * FROM mart_exec_scorecard_weekly WHERE ds = ?", arguments: [week]))
                XCTAssertEqual(SaasWeeklyExpectation.Scorecard(activeAccounts: scorecard["active_accounts"], activeUsers: scorecard["active_users"],
                                                               newUsers: scorecard["new_users"], tasksCompleted: scorecard["tasks_completed"],
                                                               wauChangePct: scorecard["wau_change_pct"]), expected.scorecard[week], week)
            }
            // models.run built the marts in the warehouse (staging views beside them) and exported each week to gold.
            XCTAssertEqual(try String.fetchOne(db, sql: "SELECT type FROM sqlite_master WHERE name = 'stg_saas_events'"), "view")
            for mart in Self.marts {
                for week in weeks {
                    let csv = try String(contentsOfFile: h.home.appendingPathComponent("lake/gold/\(mart)/ds=\(week)/data.csv").path, encoding: .utf8)
                    let local = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM \(mart) WHERE ds = ?", arguments: [week])
                    XCTAssertEqual(csv.split(separator: "\n").count - 1, local, "\(mart) \(week)")
                }
            }
            XCTAssertNil(expected.scorecard[weeks[0]]?.wauChangePct)
            XCTAssertNotNil(expected.scorecard[weeks[1]]?.wauChangePct)
        }

        // Every week again from scratch: the same marts, no second copy.
        let before = try Self.snapshot(warehouse)
        let reset = try h.run(["backfill", "saas_weekly", "--start", weeks[0], "--end", weeks[2], "--reset"])
        XCTAssertEqual(reset.status, 0, reset.stderr)
        XCTAssertEqual(try Self.snapshot(warehouse), before)
    }

    /// Every mart's rows, in a stable order, as text.
    static func snapshot(_ warehouse: DatabaseQueue) throws -> [String: [String]] {
        try warehouse.read { db in
            var tables: [String: [String]] = [:]
            for mart in marts {
                tables[mart] = try Row.fetchAll(db, sql: "SELECT * FROM \(mart) ORDER BY 1, 2, 3").map { $0.description }
            }
            return tables
        }
    }

    /// `@weekly` is Sunday midnight (Airflow's meaning): the DAG says `0 0 * * 1` so that ds is the Monday.
    func testTheDagRunsOnceAWeekOnMondays() throws {
        let dag = try String(contentsOf: ShopLakeTests.repository.appendingPathComponent("dags/saas_weekly.yaml"), encoding: .utf8)
        XCTAssertTrue(dag.contains(#"schedule: "0 0 * * 1""#), dag)
        let h = try Self.makeHarness(weeks: 1)
        // A backfill over nine days from a Wednesday creates the runs of the Mondays inside it only.
        let dry = try h.run(["backfill", "saas_weekly", "--start", "2024-02-07", "--end", "2024-02-16", "--dry-run"])
        XCTAssertEqual(dry.status, 0, dry.stderr)
        XCTAssertTrue(dry.stdout.contains("2024-02-12T00:00:00Z  2024-02-12T00:00:00Z  2024-02-19T00:00:00Z"), dry.stdout)
        XCTAssertTrue((dry.stdout + dry.stderr).contains("would create 1 run(s): 2024-02-12T00:00:00Z"), dry.stdout + dry.stderr)
    }
}

/// load.postgres publishes the marts into schema `reporting` of the test server when the connection is set.
final class SaasWeeklyPostgresTests: PostgresTestCase {
    func testTheMartsArePublishedToTheReportingSchema() throws {
        let h = try SaasWeeklyTests.makeHarness(weeks: 2)
        h.extraEnvironment["ORCHESTRATOR_CONN_REPORTING_DB"] = databaseURL
        let backfill = try h.run(["backfill", "saas_weekly", "--start", SaasWeeklyTests.weeks[0], "--end", SaasWeeklyTests.weeks[1]])
        XCTAssertEqual(backfill.status, 0, backfill.stderr)
        let warehouse = try DatabaseQueue(path: h.home.appendingPathComponent("warehouse.db").path)
        for mart in SaasWeeklyTests.marts {
            let local = try warehouse.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM \(mart)") }
            XCTAssertGreaterThan(local ?? 0, 1, mart)
            XCTAssertEqual(Int(try psql(databaseURL, "SELECT COUNT(*) FROM reporting.\(mart)")), local, mart)
        }
        let scorecard = try psql(databaseURL, "SELECT ds, active_users, new_users, wau_change_pct FROM reporting.mart_exec_scorecard_weekly ORDER BY ds")
        let want = try warehouse.read { db -> String in
            let rows = try Row.fetchAll(db, sql: "SELECT ds, active_users, new_users, wau_change_pct FROM mart_exec_scorecard_weekly ORDER BY ds")
            return rows.map { row -> String in
                let change: Double? = row["wau_change_pct"]
                return "\(row["ds"] as String)|\(row["active_users"] as Int)|\(row["new_users"] as Int)|\(change.map { String($0) } ?? "")"
            }.joined(separator: "\n")
        }
        XCTAssertEqual(scorecard, want)
    }
}
