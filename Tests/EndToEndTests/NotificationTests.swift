import Foundation
import XCTest

/// Webhook notifications from the daemon: task failure after its last try, run failure and recovery, to a
/// real HTTP server on 127.0.0.1 that fails the first delivery (500) so that the retry is exercised.
final class NotificationTests: XCTestCase {
    func testFailuresAndRecoveryAreNotifiedOnceWithARetryAfterA500() throws {
        let h = try Harness()
        let (server, port) = try h.startPythonServer(Harness.webhookRecorder, name: "hooks", log: "posts.log")
        defer { server.terminate(); server.waitUntilExit() }

        try """
            notifications:
              ops: { url: "http://127.0.0.1:\(port)/named", format: json }
            """.write(toFile: h.path("orchestrator.yaml"), atomically: true, encoding: .utf8)
        h.extraEnvironment["ORCHESTRATOR_CONFIG"] = h.path("orchestrator.yaml")
        try h.writeDag("alerting", """
            dag_id: alerting
            schedule: null
            start_date: 2024-01-01
            on_failure: ["http://127.0.0.1:\(port)/flaky", "slack+http://127.0.0.1:\(port)/slack", ops]
            tasks:
              - id: load
                command: test -e "$WORK/fixed" || { echo "source missing"; exit 3; }
            """)
        try h.startDaemon()
        XCTAssertEqual(try h.run(["trigger", "alerting", "--date", "2024-01-01"]).status, 0)
        try h.waitFor("the failure notifications (with one retry)", timeout: 30) {
            h.lines("posts.log").filter { $0.contains("\"status\": 200") }.count >= 6
        }
        FileManager.default.createFile(atPath: h.path("fixed"), contents: nil)
        XCTAssertEqual(try h.run(["trigger", "alerting", "--date", "2024-01-02"]).status, 0)
        try h.waitFor("the recovery notifications", timeout: 30) {
            h.lines("posts.log").filter { $0.contains("\"status\": 200") }.count >= 9
        }
        usleep(500_000)
        XCTAssertEqual(h.stopDaemon(), 0)

        let posts = h.webhookPosts("posts.log")
        let hook = posts.filter { $0["path"] as? String == "/flaky" }
        XCTAssertEqual(hook.first?["status"] as? Int, 500, "the first delivery fails")
        let delivered = hook.filter { $0["status"] as? Int == 200 }.compactMap { $0["body"] as? String }
        let events = delivered.compactMap { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any] }
        XCTAssertEqual(events.compactMap { $0["event"] as? String }.sorted(), ["run_failed", "run_recovered", "task_failed"],
                       "each event once: \(delivered)")
        let taskFailed = try XCTUnwrap(events.first { $0["event"] as? String == "task_failed" })
        XCTAssertEqual(taskFailed["task_id"] as? String, "load")
        XCTAssertEqual(taskFailed["exit_code"] as? Int, 3)
        XCTAssertEqual(taskFailed["run_id"] as? String, "manual__2024-01-01T00:00:00Z")
        let slack = posts.filter { $0["path"] as? String == "/slack" }.compactMap { $0["body"] as? String }
        XCTAssertEqual(slack.count, 3)
        XCTAssertTrue(slack.contains { $0.contains("\"text\":\":rotating_light: task failed: alerting.load") }, "\(slack)")
        XCTAssertEqual(posts.filter { $0["path"] as? String == "/named" }.count, 3, "the configured target gets every event")
        XCTAssertTrue(h.daemonLogText.contains("notification not delivered; will retry"), h.daemonLogText)
    }

    /// A run cleared after it failed, that fails again, is a new failure: it is notified again.
    func testAClearedRunThatFailsAgainIsNotifiedAgain() throws {
        let h = try Harness()
        let (server, port) = try h.startPythonServer(Harness.webhookRecorder, name: "hooks", log: "posts.log")
        defer { server.terminate(); server.waitUntilExit() }
        try h.writeDag("again", """
            dag_id: again
            schedule: null
            start_date: 2024-01-01
            on_failure: ["http://127.0.0.1:\(port)/hook"]
            tasks:
              - { id: broken, command: "exit 1" }
            """)
        try h.startDaemon()
        func runFailures() -> Int { h.webhookEvents("posts.log").filter { $0["event"] as? String == "run_failed" }.count }
        XCTAssertEqual(try h.run(["trigger", "again", "--date", "2024-01-01"]).status, 0)
        try h.waitFor("the first failure", timeout: 30) { runFailures() == 1 }
        XCTAssertEqual(try h.run(["tasks", "clear", "again", "--date", "2024-01-01"]).status, 0)
        try h.waitFor("the second failure", timeout: 30) { runFailures() == 2 }
        XCTAssertEqual(h.stopDaemon(), 0)
        XCTAssertEqual(h.webhookEvents("posts.log").filter { $0["event"] as? String == "task_failed" }.count, 2, "\(h.lines("posts.log"))")
    }

    /// A receiver that takes its time (0.5 s) over each POST, so that two senders reading the same due messages
    /// would both send them before either recorded its delivery.
    static let slowRecorder = #"""
        import http.server, json, sys, time
        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args): pass
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode()
                time.sleep(0.5)
                with open(sys.argv[2], "a") as log: log.write(json.dumps({"path": self.path, "status": 200, "body": body}) + "\n")
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        with open(sys.argv[1], "w") as f: f.write(str(server.server_address[1]))
        server.serve_forever()
        """#

    /// Two daemons (nodes) on one store, both scheduling the DAG and both delivering the outbox: each message is
    /// claimed in the store before it is sent, so each event reaches the receiver once.
    func testTwoNodesOnOneStoreDeliverEachEventOnce() throws {
        let a = try Harness(), b = try Harness()
        let (server, port) = try a.startPythonServer(Self.slowRecorder, name: "hooks", log: "posts.log")
        defer { server.terminate(); server.waitUntilExit() }
        let tasks = (1...6).map { "  - { id: broken_\($0), command: \"exit 1\" }" }.joined(separator: "\n")
        let dag = """
            dag_id: noisy
            schedule: null
            start_date: 2024-01-01
            on_failure: ["http://127.0.0.1:\(port)/hook"]
            tasks:
            \(tasks)
            """
        for (h, name) in [(a, "node-a"), (b, "node-b")] {
            try h.writeDag("noisy", dag)
            h.extraEnvironment["ORCHESTRATOR_STORE"] = "sqlite://" + a.path("shared.db")
            h.extraEnvironment["ORCHESTRATOR_NODE_NAME"] = name
        }
        try a.startDaemon()
        try b.startDaemon()
        for date in ["2024-01-01", "2024-01-02"] {
            XCTAssertEqual(try a.run(["trigger", "noisy", "--date", date]).status, 0)
        }
        // Six task failures and a run failure for each of the two runs.
        try a.waitFor("the notifications", timeout: 60) { a.webhookEvents("posts.log").count >= 14 }
        // Both senders look at the outbox every 5 s: long enough for a second delivery to show.
        Thread.sleep(forTimeInterval: 7)
        XCTAssertEqual(a.stopDaemon(), 0)
        XCTAssertEqual(b.stopDaemon(), 0)
        let keys = a.webhookEvents("posts.log").map { event in
            [event["event"], event["run_id"], event["task_id"]].map { $0.map { "\($0)" } ?? "-" }.joined(separator: " ")
        }
        XCTAssertEqual(keys.count, 14, "each event once: \(keys.sorted())")
        XCTAssertEqual(Set(keys).count, 14, "\(keys.sorted())")
    }
}
