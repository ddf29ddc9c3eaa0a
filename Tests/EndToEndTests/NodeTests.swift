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
        let nodes = try JSONSerialization.jsonObject(with: Data(try http.get(base + "api/v1/nodes").body.utf8)) as? [[String: Any]]
        XCTAssertEqual(nodes?.map { $0["name"] as? String }, ["node-e2e.1"])
        XCTAssertEqual(nodes?.first?["pid"] as? Int, h.daemon.map { Int($0.processIdentifier) })
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

    func testAStorePollIntervalOutOfBoundsIsRefusedInOneLine() throws {
        let h = try Harness()
        try h.writeDag("where", "dag_id: where\nschedule: null\nstart_date: 2024-01-01\ntasks:\n  - { id: a, command: \"true\" }\n")
        for bad in ["5ms", "2m", "often"] {
            h.extraEnvironment["ORCHESTRATOR_STORE_POLL_INTERVAL"] = bad
            let result = try h.run(["daemon"], timeout: 30)
            XCTAssertNotEqual(result.status, 0, bad)
            XCTAssertEqual(result.stderr.split(separator: "\n").count, 1, result.stderr)
            XCTAssertTrue(result.stderr.contains("store_poll_interval: '\(bad)' is not a duration from 100ms to 1m"), result.stderr)
        }
    }

    /// Two daemons on one store (distinct homes): node-a dies with its worker and task, as a machine does; node-b
    /// declares it lost after node_timeout, fails its attempt with "node lost", and the retry runs on node-b.
    func testANodeThatGoesSilentIsDeclaredLostByAnotherAndItsAttemptRetried() throws {
        let a = try Harness(), b = try Harness()
        let storePath = a.path("shared.db")
        let dag = """
            dag_id: lost
            schedule: null
            start_date: 2024-01-01
            tasks:
              - id: work
                retries: 1
                retry_delay: 0s
                command: 'echo "$ORCHESTRATOR_NODE_NAME" >> "$WORK/ran"; if [ "$ORCHESTRATOR_NODE_NAME" = node-a ]; then sleep 300; fi'
            """
        for (h, name) in [(a, "node-a"), (b, "node-b")] {
            try h.writeDag("lost", dag)
            h.extraEnvironment["ORCHESTRATOR_STORE"] = "sqlite://" + storePath
            h.extraEnvironment["ORCHESTRATOR_NODE_NAME"] = name
            h.extraEnvironment["ORCHESTRATOR_NODE_TIMEOUT"] = "10s"
        }
        try a.startDaemon()
        XCTAssertEqual(try a.run(["trigger", "lost", "--date", "2024-01-01"]).status, 0)
        try a.waitFor("node-a to run the task") { a.lines("ran") == ["node-a"] }
        let store = try DatabaseQueue(path: storePath)
        let row = try XCTUnwrap(try store.read { try Row.fetchOne($0, sql: "SELECT pid, task_pid FROM task_instances WHERE task_id = 'work'") })
        let worker: Int32 = try XCTUnwrap(row["pid"]), task: Int32 = try XCTUnwrap(row["task_pid"])
        // Never while it is alive: node-b looks past node_timeout and its 10 s recovery check, and leaves it alone.
        try b.startDaemon()
        Thread.sleep(forTimeInterval: 14)
        XCTAssertEqual(try b.tasks(dag: "lost", date: "2024-01-01")["work"]?["state"] as? String, "running")
        XCTAssertFalse(b.daemonLogText.contains("node lost"), b.daemonLogText)

        // node-a's machine dies: the daemon first (so it records nothing), then the worker and the task.
        a.stopDaemon(signal: SIGKILL)
        kill(worker, SIGKILL)
        kill(-task, SIGKILL)
        let died = Date()
        try b.waitFor("node-b to retry the task", timeout: 60) { try b.runStates(dag: "lost") == ["success"] }
        // Its last heartbeats (every 5 s) came at most 5 s before it died: node_timeout 10 s runs from them.
        XCTAssertGreaterThan(Date().timeIntervalSince(died), 4.5, "not before node_timeout")
        XCTAssertEqual(b.lines("ran"), ["node-b"])
        let attempts = try store.read {
            try Row.fetchAll($0, sql: "SELECT state, hostname, note FROM task_attempts WHERE task_id = 'work' ORDER BY try_number")
        }
        XCTAssertEqual(attempts.map { $0["state"] as String? }, ["up_for_retry", "success"], "\(attempts)")
        XCTAssertEqual(attempts.map { $0["hostname"] as String? }, ["node-a", "node-b"])
        XCTAssertTrue((attempts.first?["note"] as String?)?.hasPrefix("node lost: node-a") ?? false, "\(attempts)")
        XCTAssertTrue(b.daemonLogText.contains("node lost"), b.daemonLogText)
        XCTAssertEqual(b.stopDaemon(), 0)
    }
}
