import Foundation
import XCTest

/// SIGHUP re-reads the configuration and the DAG folder while running tasks carry on.
final class ReloadTests: XCTestCase {
    func testSighupPicksUpAChangedDagAndConfigurationWithoutStoppingTasks() throws {
        let h = try Harness()
        func dag(_ version: String) -> String {
            """
            dag_id: versioned
            schedule: null
            start_date: 2024-01-01
            tasks:
              - id: write
                command: sleep {{ params.pause }}; echo "\(version) {{ ds }}" >> "$WORK/ledger"
            params: { pause: "0" }
            """
        }
        try "pools: { reloadable: 1 }\n".write(toFile: h.path("orchestrator.yaml"), atomically: true, encoding: .utf8)
        h.extraEnvironment["ORCHESTRATOR_CONFIG"] = h.path("orchestrator.yaml")
        try h.writeDag("versioned", dag("v1"))
        try h.startDaemon(["--no-watch"])
        XCTAssertEqual(try h.run(["trigger", "versioned", "--date", "2024-01-01"]).status, 0)
        try h.waitFor("the first run") { h.lines("ledger") == ["v1 2024-01-01"] }

        // Without SIGHUP (and without the folder watcher) the daemon keeps the DAG it loaded.
        try h.writeDag("versioned", dag("v2"))
        try "pools: { reloadable: 5 }\n".write(toFile: h.path("orchestrator.yaml"), atomically: true, encoding: .utf8)
        XCTAssertEqual(try h.run(["trigger", "versioned", "--date", "2024-01-02", "--param", "pause=2"]).status, 0)
        try h.waitFor("the second run to start") { try h.tasks(dag: "versioned", date: "2024-01-02")["write"]?["state"] as? String == "running" }
        let daemon = try XCTUnwrap(h.daemon)
        kill(daemon.processIdentifier, SIGHUP)
        try h.waitFor("the reload") { h.daemonLogText.contains("configuration reloaded") }
        XCTAssertEqual(try h.run(["trigger", "versioned", "--date", "2024-01-03"]).status, 0)
        try h.waitFor("all runs") { try h.runStates(dag: "versioned").count == 3 && h.lines("ledger").count == 3 }
        try h.waitFor("success") { try h.runStates(dag: "versioned").allSatisfy { $0 == "success" } }
        XCTAssertEqual(h.stopDaemon(), 0)
        // The run already going when SIGHUP came finished as it was; the next one used the new file.
        XCTAssertEqual(Set(h.lines("ledger")), ["v1 2024-01-01", "v1 2024-01-02", "v2 2024-01-03"])
        let pools = try h.run(["pools", "list", "--json"]).stdout
        XCTAssertTrue(pools.contains("\"pool\" : \"reloadable\",\n    \"slots\" : 5") || pools.replacingOccurrences(of: " ", with: "").contains("\"pool\":\"reloadable\",\"slots\":5"), pools)
    }

    /// On SIGHUP the file's connections change for new tasks, the environment the daemon started with still wins
    /// over the file (as at start), and a connection removed from the file is gone: a task naming it fails, saying so.
    func testSighupReloadsConnectionsWithTheEnvironmentStillWinning() throws {
        let h = try Harness()
        func config(_ version: String, withGone: Bool) -> String {
            "connections:\n  fromfile: sqlite:///file-\(version)\n  both: sqlite:///file-\(version)\n" + (withGone ? "  gone: sqlite:///gone\n" : "")
        }
        try config("v1", withGone: true).write(toFile: h.path("orchestrator.yaml"), atomically: true, encoding: .utf8)
        h.extraEnvironment["ORCHESTRATOR_CONFIG"] = h.path("orchestrator.yaml")
        h.extraEnvironment["ORCHESTRATOR_CONN_BOTH"] = "sqlite:///from-environment"
        try h.writeDag("conns", """
            dag_id: conns
            schedule: null
            start_date: 2024-01-01
            tasks:
              - { id: show, connections: [fromfile, both], command: 'echo "$ORCHESTRATOR_CONN_FROMFILE $ORCHESTRATOR_CONN_BOTH ${ORCHESTRATOR_CONN_GONE:-none}" >> "$WORK/ledger"' }
              - { id: gone, connections: [gone], command: 'echo "$ORCHESTRATOR_CONN_GONE" >> "$WORK/gone"' }
            """)
        try h.startDaemon(["--no-watch"])
        XCTAssertEqual(try h.run(["trigger", "conns", "--date", "2024-01-01"]).status, 0)
        try h.waitFor("the first run") { h.lines("ledger").count == 1 }
        try config("v2", withGone: false).write(toFile: h.path("orchestrator.yaml"), atomically: true, encoding: .utf8)
        kill(try XCTUnwrap(h.daemon).processIdentifier, SIGHUP)
        try h.waitFor("the reload") { h.daemonLogText.contains("configuration reloaded") }
        XCTAssertEqual(try h.run(["trigger", "conns", "--date", "2024-01-02"]).status, 0)
        try h.waitFor("the second run") { try h.lines("ledger").count == 2 && h.runStates(dag: "conns").contains("failed") }
        XCTAssertEqual(h.stopDaemon(), 0)
        // `show` did not name `gone`, so it never saw it; `gone` saw it before the reload only.
        XCTAssertEqual(h.lines("ledger"), ["sqlite:///file-v1 sqlite:///from-environment none",
                                           "sqlite:///file-v2 sqlite:///from-environment none"])
        XCTAssertEqual(h.lines("gone"), ["sqlite:///gone"])
        let second = try h.tasks(dag: "conns", date: "2024-01-02")["gone"]
        XCTAssertEqual(second?["state"] as? String, "failed")
        XCTAssertTrue((second?["note"] as? String)?.contains("names connection 'gone' in connections:, which is not configured") ?? false,
                      "\(second ?? [:])")
    }
}
