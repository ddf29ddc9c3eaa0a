import Foundation
import XCTest

/// Bad input gets one clear line and a non-zero exit code, never a stack trace.
final class CommandLineErrorTests: XCTestCase {
    func testUserErrorsAreOneClearLine() throws {
        let h = try Harness()
        try h.writeDag("ok", """
            dag_id: ok
            schedule: "@daily"
            start_date: 2024-01-01
            params: { region: eu }
            tasks:
              - id: a
                command: "true"
            """)
        let cases: [([String], String)] = [
            (["trigger", "nope"], "unknown DAG 'nope'"),
            (["trigger", "ok", "--date", "2024-02-30"], "--date '2024-02-30' is not a date"),
            (["trigger", "ok", "--param", "colour=red"], "--param 'colour' is not a param of DAG 'ok' (declared: region)"),
            (["backfill", "ok", "--start", "2024-02-01", "--end", "2024-01-01"], "is after --end"),
            (["tasks", "list", "ok", "--date", "2024-01-01"], "DAG 'ok' has no run at"),
            (["logs", "ok", "zzz", "--date", "2024-01-01"], "DAG 'ok' has no task 'zzz'"),
            (["runs", "list", "--state", "exploded"], "--state 'exploded' is not a run state"),
            (["dags", "list", "--dags", "/nonexistent/dags"], "DAG folder /nonexistent/dags does not exist"),
        ]
        for (arguments, expected) in cases {
            let result = try h.run(arguments)
            XCTAssertNotEqual(result.status, 0, arguments.joined(separator: " "))
            XCTAssertTrue(result.stderr.contains(expected), "\(arguments): \(result.stderr)")
            XCTAssertFalse(result.stderr.contains("Fatal error") || result.stderr.contains("Stack dump"), result.stderr)
            XCTAssertLessThanOrEqual(result.stderr.split(separator: "\n").filter { $0.hasPrefix("Error:") }.count, 1)
        }
    }

    func testValidateReportsFileLineAndFieldAndFails() throws {
        let h = try Harness()
        try h.writeDag("bad", """
            dag_id: bad
            schedule: "@daily"
            start_date: 2024-01-01
            tasks:
              - id: a
                command: "true"
                retry_delay: 5 minutes
            """)
        let result = try h.run(["dags", "validate"])
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(result.stdout.contains("bad.yaml:7: tasks[0].retry_delay:"), result.stdout)
    }
}
