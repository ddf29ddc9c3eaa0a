import Foundation
import XCTest

/// The configuration file: validation with file and line, the effective values with secrets masked, and a
/// daemon that takes its pools, connections and log format from it.
final class ConfigurationTests: XCTestCase {
    func testConfigCheckMasksSecretsAndNamesBadLines() throws {
        let h = try Harness()
        try """
            parallelism: 8
            connections: { social_db: "postgres://app:hunter22@127.0.0.1:5432/social" }
            """.write(toFile: h.path("good.yaml"), atomically: true, encoding: .utf8)
        h.extraEnvironment["ORCHESTRATOR_PARALLELISM"] = "4"
        let good = try h.run(["config", "check", "--config", h.path("good.yaml")])
        XCTAssertEqual(good.status, 0, good.stderr)
        XCTAssertTrue(good.stdout.contains("parallelism   4  (environment ORCHESTRATOR_PARALLELISM)"), good.stdout)
        XCTAssertTrue(good.stdout.contains("connection    social_db: postgres://app:***@127.0.0.1:5432/social"), good.stdout)
        XCTAssertFalse(good.stdout.contains("hunter22"))

        try "home: /tmp/x\ngrace_period: soon\n".write(toFile: h.path("bad.yaml"), atomically: true, encoding: .utf8)
        let bad = try h.run(["config", "check", "--config", h.path("bad.yaml")])
        XCTAssertEqual(bad.status, 1)
        XCTAssertTrue(bad.stderr.contains("bad.yaml:2: grace_period: 'soon' is not a duration"), bad.stderr)
    }

    /// The shipped configurations are valid as they stand: the single-node one and the two-node deployment's.
    func testTheShippedConfigurationsPassConfigCheck() throws {
        let h = try Harness()
        for file in ["deploy/orchestrator.yaml", "deploy/two-nodes/orchestrator.yaml"] {
            let path = ShopLakeTests.repository.appendingPathComponent(file).path
            let check = try h.run(["config", "check", "--config", path])
            XCTAssertEqual(check.status, 0, "\(file): \(check.stderr)")
            XCTAssertTrue(check.stderr.isEmpty, "\(file): \(check.stderr)")
        }
    }

    /// `test` and a backfill without a daemon run their own scheduler: they take the file's connections and pools too.
    func testTestAndDaemonlessBackfillUseTheConfiguration() throws {
        let h = try Harness()
        try "pools: { narrow: 1 }\nconnections:\n  lake_db: sqlite:///from-the-file\n".write(toFile: h.path("orchestrator.yaml"), atomically: true, encoding: .utf8)
        h.extraEnvironment["ORCHESTRATOR_CONFIG"] = h.path("orchestrator.yaml")
        try h.writeDag("configured", """
            dag_id: configured
            schedule: "@daily"
            start_date: 2024-01-01
            catchup: false
            tasks:
              - { id: show, pool: narrow, connections: [lake_db], command: 'echo "conn=$ORCHESTRATOR_CONN_LAKE_DB"' }
            """)
        let test = try h.run(["test", "configured", "--date", "2024-01-01"])
        XCTAssertEqual(test.status, 0, test.stderr)
        XCTAssertTrue(test.stdout.contains("conn=sqlite:///from-the-file"), test.stdout)
        let backfill = try h.run(["backfill", "configured", "--start", "2024-01-01", "--end", "2024-01-02"])
        XCTAssertEqual(backfill.status, 0, backfill.stderr)
        XCTAssertEqual(try h.runStates(dag: "configured"), ["success", "success"], "the pool existed for the backfill's tasks")
        XCTAssertTrue(try h.run(["logs", "configured", "show", "--date", "2024-01-02"]).stdout.contains("conn=sqlite:///from-the-file"))
    }

    func testWebTokenIsCheckedAndNeverShown() throws {
        let h = try Harness()
        try "web_token: tooshort\n".write(toFile: h.path("short.yaml"), atomically: true, encoding: .utf8)
        let short = try h.run(["config", "check", "--config", h.path("short.yaml")])
        XCTAssertNotEqual(short.status, 0)
        XCTAssertTrue(short.stderr.contains("short.yaml:1") && short.stderr.contains("web_token"), short.stderr)
        XCTAssertFalse(short.stderr.contains("tooshort") || short.stdout.contains("tooshort"), "the token is never printed")
        h.extraEnvironment["ORCHESTRATOR_WEB_TOKEN"] = "a-long-enough-secret-token"
        let good = try h.run(["config", "check", "--config", h.path("short.yaml")])
        XCTAssertEqual(good.status, 0, good.stderr)
        XCTAssertTrue(good.stdout.contains("web_token     ***  (environment ORCHESTRATOR_WEB_TOKEN)"), good.stdout)
        XCTAssertFalse(good.stdout.contains("a-long-enough-secret-token"))
    }

    func testDaemonTakesPoolsConnectionsAndLogFormatFromTheFile() throws {
        let h = try Harness()
        try h.writeDag("uses_config", """
            dag_id: uses_config
            schedule: null
            start_date: 2024-01-01
            tasks:
              - id: needs_connection
                pool: warehouse
                connections: [social_db]
                command: test "$ORCHESTRATOR_CONN_SOCIAL_DB" = "postgres://app:pw@127.0.0.1/social"
            """)
        try """
            log_format: json
            pools: { warehouse: 2 }
            connections: { social_db: "postgres://app:pw@127.0.0.1/social" }
            """.write(toFile: h.path("orchestrator.yaml"), atomically: true, encoding: .utf8)
        h.extraEnvironment["ORCHESTRATOR_CONFIG"] = h.path("orchestrator.yaml")
        try h.startDaemon()
        XCTAssertEqual(try h.run(["trigger", "uses_config", "--date", "2024-01-01"]).status, 0)
        try h.waitFor("the run to succeed") { try h.runStates(dag: "uses_config") == ["success"] }
        XCTAssertEqual(h.stopDaemon(), 0)
        let pools = try h.run(["pools", "list", "--json"]).stdout
        XCTAssertTrue(pools.contains("\"pool\" : \"warehouse\"") && pools.contains("\"slots\" : 2"), pools)
        let lines = h.daemonLogText.split(separator: "\n")
        XCTAssertFalse(lines.isEmpty)
        for line in lines {
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String]
            XCTAssertNotNil(object?["msg"], String(line))
        }
    }
}
