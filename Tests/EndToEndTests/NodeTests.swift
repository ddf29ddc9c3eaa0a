import Foundation
import GRDB
import XCTest

/// Every daemon is a node: its name is on the attempts it starts, in its tasks' environment, on the pages and
/// /healthz, and in the store's nodes table with a heartbeat.
final class NodeTests: XCTestCase {
    let http = HTTPClient()

    func testADaemonIsANodeNamedOnItsAttemptsItsTasksAndItsHealth() throws {
        let h = try Harness()
        h.extraEnvironment["ORCHESTRATOR_NODE_NAME"] = "node-e2e.1"
        try h.writeDag("where", """
            dag_id: where
            schedule: null
            start_date: 2024-01-01
            tasks:
              - { id: say, command: 'printf %s "$ORCHESTRATOR_NODE_NAME" > "$WORK/node.txt"' }
            """)
        try h.startDaemon()
        XCTAssertTrue(h.daemonLogText.contains("node=node-e2e.1"), h.daemonLogText)
        XCTAssertEqual(try h.run(["trigger", "where", "--date", "2024-01-01"]).status, 0)
        try h.waitFor("the run to finish") { try h.runStates(dag: "where") == ["success"] }
        XCTAssertEqual(try String(contentsOfFile: h.path("node.txt"), encoding: .utf8), "node-e2e.1")
        XCTAssertEqual(try h.tasks(dag: "where", date: "2024-01-01")["say"]?["hostname"] as? String, "node-e2e.1")

        let base = try XCTUnwrap(h.webURL, h.daemonLogText)
        let health = try http.get(base + "healthz")
        XCTAssertEqual(health.status, 200)
        XCTAssertTrue(health.body.hasPrefix("ok\nnode: node-e2e.1\n"), health.body)
        XCTAssertFalse(health.body.contains("warning"), "one machine, one clock: \(health.body)")
        let page = try http.get(base + "dags/where/runs/\(HTTPClient.encoded("manual__2024-01-01T00:00:00Z"))/tasks/say")
        XCTAssertTrue(page.body.contains("<th>node</th>") && page.body.contains("<td>node-e2e.1</td>"), page.body)

        // The store knows the node, and its heartbeat moves on (every 5 s).
        let store = try DatabaseQueue(path: h.home.appendingPathComponent("orchestrator.db").path)
        let first = try XCTUnwrap(try store.read { try Row.fetchOne($0, sql: "SELECT last_heartbeat, pid, version FROM nodes WHERE name = 'node-e2e.1'") })
        XCTAssertEqual(first["pid"] as Int32?, h.daemon?.processIdentifier)
        let firstBeat: Double = first["last_heartbeat"]
        try h.waitFor("a later heartbeat", timeout: 15) {
            try store.read { try Double.fetchOne($0, sql: "SELECT last_heartbeat FROM nodes WHERE name = 'node-e2e.1'") } ?? 0 > firstBeat
        }
        XCTAssertEqual(h.stopDaemon(), 0)
    }

    func testAnInvalidNodeNameIsRefusedInOneLine() throws {
        let h = try Harness()
        try h.writeDag("where", "dag_id: where\nschedule: null\nstart_date: 2024-01-01\ntasks:\n  - { id: a, command: \"true\" }\n")
        for bad in ["two words", "<script>", String(repeating: "n", count: 64)] {
            h.extraEnvironment["ORCHESTRATOR_NODE_NAME"] = bad
            let result = try h.run(["daemon"], timeout: 30)
            XCTAssertNotEqual(result.status, 0, bad)
            let lines = result.stderr.split(separator: "\n")
            XCTAssertEqual(lines.count, 1, result.stderr)
            XCTAssertTrue(result.stderr.contains("node_name") || result.stderr.contains("node name"), result.stderr)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: h.home.appendingPathComponent("orchestrator.db").path),
                       "refused before the store is opened")
    }
}
