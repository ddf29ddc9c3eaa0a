import Foundation
import GRDB
import XCTest

/// social_elt end to end: scripts/seed-social fills a real PostgreSQL database, the DAG extracts it by
/// snapshot and by data interval, cleans it (UUID ids, EUR conversion, unknown currencies and event types
/// rejected) and builds the two gold tables, checked against values a small Python script computes from the
/// raw tables alone.
final class SocialEltTests: PostgresTestCase {
    func testSocialEltGoldMatchesValuesComputedFromTheRawTables() throws {
        let h = try Harness()
        h.extraEnvironment["ORCHESTRATOR_CONN_SOCIAL_DB"] = databaseURL
        h.extraEnvironment["ORCHESTRATOR_CONN_REPORTING_DB"] = databaseURL
        let repository = ShopLakeTests.repository
        try seedSocialSource(users: 80, out: h.path("social"))

        let dags = repository.appendingPathComponent("dags")
        try FileManager.default.copyItem(at: dags.appendingPathComponent("social_elt"), to: h.dags.appendingPathComponent("social_elt"))
        let dagText = try String(contentsOf: dags.appendingPathComponent("social_elt.yaml"), encoding: .utf8)
            .replacingOccurrences(of: "retries: 2", with: "retries: 0")
        try h.writeDag("social_elt", dagText)

        let days = ["2024-06-01", "2024-06-02"]
        let backfill = try h.run(["backfill", "social_elt", "--start", days[0], "--end", days[1]])
        if backfill.status != 0 {
            for task in ["extract", "silver", "gold", "load", "quality"] {
                for day in days { print(try h.run(["logs", "social_elt", task, "--date", day]).stdout) }
            }
        }
        XCTAssertEqual(backfill.status, 0, backfill.stderr)

        // The expected gold tables, from the raw tables that were loaded into PostgreSQL.
        try Self.expectation.write(toFile: h.path("social_expected.py"), atomically: true, encoding: .utf8)
        let python = Process()
        python.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        python.arguments = ["python3", h.path("social_expected.py"), h.path("social")] + days
        let pipe = Pipe()
        python.standardOutput = pipe
        try python.run()
        let json = pipe.fileHandleForReading.readDataToEndOfFile()
        python.waitUntilExit()
        XCTAssertEqual(python.terminationStatus, 0)
        let expected = try XCTUnwrap(try JSONSerialization.jsonObject(with: json) as? [String: [String: [String: [String: Any]]]])
        // The source holds UUID ids (else this test would prove nothing about them).
        let users = try String(contentsOfFile: h.path("social/users.csv"), encoding: .utf8)
        XCTAssertNotNil(users.range(of: #"\n[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12},"#, options: .regularExpression))

        let warehouse = try DatabaseQueue(path: h.home.appendingPathComponent("warehouse.db").path)
        for day in days {
            let activityWanted = try XCTUnwrap(expected[day]?["activity"])
            let impactWanted = try XCTUnwrap(expected[day]?["impact"])
            XCTAssertGreaterThan(activityWanted.count, 10, day)
            try warehouse.read { db in
                let activity = try Row.fetchAll(db, sql: "SELECT * FROM global_user_activity_per_day WHERE ds = ? ORDER BY user_id", arguments: [day])
                XCTAssertEqual(Set(activity.map { $0["user_id"] as String }), Set(activityWanted.keys), day)
                for row in activity {
                    let user: String = row["user_id"]
                    guard let want = activityWanted[user] else { continue }
                    XCTAssertEqual(row["date"] as String, day)
                    XCTAssertEqual(row["total_nbr_connexion"] as Int, want["connexions"] as? Int, "\(day) user \(user)")
                    XCTAssertEqual(row["total_spend_time"] as Int, want["seconds"] as? Int, "\(day) user \(user)")
                    XCTAssertEqual(row["total_message_send_this_day"] as Int, want["messages"] as? Int, "\(day) user \(user)")
                    XCTAssertEqual(row["total_money_spend"] as Double, want["spend"] as? Double ?? -1, accuracy: 0.005, "\(day) user \(user)")
                }
                let impact = try Row.fetchAll(db, sql: "SELECT * FROM global_notif_impact_per_day WHERE ds = ? ORDER BY notification_id", arguments: [day])
                XCTAssertEqual(Set(impact.map { $0["notification_id"] as String }), Set(impactWanted.keys), day)
                for row in impact {
                    let id: String = row["notification_id"]
                    guard let want = impactWanted[id] else { continue }
                    XCTAssertEqual(row["user_id"] as String, want["user_id"] as? String)
                    XCTAssertEqual(row["content_notif"] as String, want["content"] as? String)
                    XCTAssertEqual(row["notif_date"] as String, want["date"] as? String)
                    XCTAssertEqual(row["is_success"] as Int, want["success"] as? Int, "notification \(id)")
                    XCTAssertEqual(row["time_spend_after_success"] as Int, want["spent"] as? Int, "notification \(id)")
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

    static let expectation = #"""
# Expected gold tables of social_elt, computed from the raw tables loaded into PostgreSQL (their CSV files)
# alone, with csv + datetime + decimal, independently of the transform library. argv = folder, days... Prints JSON.
import csv, json, sys
from datetime import datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation

folder, days = sys.argv[1], sys.argv[2:]
RATES = {"EUR": Decimal("1"), "USD": Decimal("0.92"), "GBP": Decimal("1.17")}  # dags/social_elt/rates.csv

def table(name):
    with open(f"{folder}/{name}.csv", newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))

def utc(text):
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    return (value if value.tzinfo else value.replace(tzinfo=timezone.utc)).astimezone(timezone.utc)

def day_of(when):
    return when.date().isoformat() if when else None

users = {r["id"].lower() for r in table("users") if r["email"].strip()}
events = {}
for r in table("user_session_events"):
    when, kind, user = utc(r["event_time"]), r["event_type"].strip().lower(), r["user_id"].lower()
    if when and user in users and kind in ("session_start", "page_view", "session_end"):
        events[(r["session_id"].lower(), kind, when)] = (user, day_of(when))
messages = [(r["user_id"].lower(), day_of(utc(r["created_at"]))) for r in table("group_messages") if r["user_id"].lower() in users]
purchases = []
for r in table("user_purchases"):
    try:
        amount = Decimal(r["amount"].strip())
    except InvalidOperation:
        continue
    currency = r["currency"].strip().upper()
    when = utc(r["purchase_time"])
    if r["user_id"].lower() in users and amount >= 0 and currency in RATES and when:
        purchases.append((r["user_id"].lower(), day_of(when), amount * RATES[currency]))
opened = {r["notification_id"].lower() for r in table("notification_states") if r["status"].strip().lower() == "opened"}
notifications = [(r["user_id"].lower(), r["notification_id"].lower(), r["content"].strip(), utc(r["notification_time"]))
                 for r in table("user_notifications") if r["user_id"].lower() in users]

result = {}
for ds in days:
    starts, ends = {}, {}
    for (session, kind, when), (user, day) in events.items():
        if day != ds:
            continue
        if kind == "session_start":
            key = (user, session)
            starts[key] = min(starts.get(key, when), when)
        elif kind == "session_end":
            ends[session] = max(ends.get(session, when), when)
    sessions = []
    for (user, session), started in starts.items():
        ended = ends.get(session)
        seconds = round((ended - started).total_seconds()) if ended and ended >= started else 0
        sessions.append((user, started, seconds))
    activity = {}
    def row(user):
        return activity.setdefault(user, {"connexions": 0, "seconds": 0, "messages": 0, "spend": Decimal(0)})
    for user, _, seconds in sessions:
        row(user)["connexions"] += 1
        row(user)["seconds"] += seconds
    for user, day in messages:
        if day == ds:
            row(user)["messages"] += 1
    for user, day, eur in purchases:
        if day == ds:
            row(user)["spend"] += eur
    for values in activity.values():
        values["spend"] = float(values["spend"].quantize(Decimal("0.01")))
    impact = {}
    for user, nid, content, when in notifications:
        if day_of(when) != ds:
            continue
        success = nid in opened
        spent = sum(s for u, started, s in sessions if u == user and when <= started <= when + timedelta(hours=1)) if success else 0
        impact[nid] = {"user_id": user, "content": content, "date": day_of(when), "success": 1 if success else 0, "spent": spent}
    result[ds] = {"activity": activity, "impact": impact}
print(json.dumps(result))
"""#
}
