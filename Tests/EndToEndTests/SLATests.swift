import Foundation
import XCTest

/// A scheduled run and a task that have not succeeded by their SLA deadline (end of the data interval + sla):
/// the miss is recorded and notified once.
final class SLATests: XCTestCase {
    func testMissedSlasAreRecordedAndNotifiedOnce() throws {
        let h = try Harness()
        let (server, port) = try h.startPythonServer(Harness.webhookRecorder, name: "hooks", log: "posts.log")
        defer { server.terminate(); server.waitUntilExit() }

        // An every-minute schedule: the daemon creates the run of the minute that just ended. Its SLA is set to
        // fall 3 s from now; the task takes 6 s.
        let second = Self.secondOfMinuteWithRoom()
        try h.writeDag("timely", """
            dag_id: timely
            schedule: "* * * * *"
            start_date: 2024-01-01
            catchup: false
            sla: \(second + 3)s
            on_failure: ["http://127.0.0.1:\(port)/hook"]
            tasks:
              - id: slow
                sla: \(second + 3)s
                command: sleep 6
            """)
        try h.startDaemon()
        try h.waitFor("the SLA notifications", timeout: 30) { h.lines("posts.log").count >= 2 }
        try h.waitFor("the run to finish", timeout: 30) { try h.runStates(dag: "timely").first == "success" }
        usleep(500_000)
        XCTAssertEqual(h.stopDaemon(), 0)
        let events = h.webhookEvents("posts.log")
        let misses = events.filter { $0["event"] as? String == "sla_missed" }
        XCTAssertEqual(misses.count, 2, "one for the run, one for the task: \(events)")
        XCTAssertEqual(Set(misses.map { $0["task_id"] as? String ?? "-" }), ["-", "slow"])
        XCTAssertEqual(h.daemonLogText.components(separatedBy: "msg=\"SLA missed\"").count - 1, 2, h.daemonLogText)
    }

    /// The current second of the minute, after waiting for the next minute when fewer than 10 s are left.
    static func secondOfMinuteWithRoom() -> Int {
        let second = Calendar(identifier: .gregorian).component(.second, from: Date())
        guard second > 50 else { return second }
        Thread.sleep(forTimeInterval: Double(61 - second))
        return Calendar(identifier: .gregorian).component(.second, from: Date())
    }

    /// A run that fails before its deadline has not succeeded by it either: the miss comes when the deadline
    /// passes, and the DAG page lists it.
    func testARunThatFailedBeforeItsDeadlineMissesItsSla() throws {
        let h = try Harness()
        let (server, port) = try h.startPythonServer(Harness.webhookRecorder, name: "hooks", log: "posts.log")
        defer { server.terminate(); server.waitUntilExit() }
        let second = Self.secondOfMinuteWithRoom()
        try h.writeDag("doomed", """
            dag_id: doomed
            schedule: "* * * * *"
            start_date: 2024-01-01
            catchup: false
            sla: \(second + 4)s
            on_failure: ["http://127.0.0.1:\(port)/hook"]
            tasks:
              - { id: broken, command: "exit 1" }
            """)
        try h.startDaemon()
        try h.waitFor("the run to fail", timeout: 30) { try h.runStates(dag: "doomed").first == "failed" }
        XCTAssertFalse(h.lines("posts.log").contains { $0.contains("sla_missed") }, "no miss before the deadline")
        try h.waitFor("the SLA miss", timeout: 30) { h.lines("posts.log").contains { $0.contains("sla_missed") } }
        let page = try HTTPClient().get(try XCTUnwrap(h.webURL) + "dags/doomed")
        XCTAssertTrue(page.body.contains("class=\"sla-miss\"") && page.body.contains("(whole run)"), page.body)
        XCTAssertEqual(h.stopDaemon(), 0)
        XCTAssertEqual(h.lines("posts.log").filter { $0.contains("sla_missed") }.count, 1, "notified once: \(h.lines("posts.log"))")
    }
}
