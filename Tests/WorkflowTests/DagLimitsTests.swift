import Foundation
import XCTest
@testable import Workflow

/// Every number a DAG file holds has documented bounds (docs/dag-format.md, "Limits"), refused at its line.
final class DagLimitsTests: XCTestCase {
    private let file = "dags/limits.yaml"

    /// A DAG whose only task carries `taskLines` (indented under it) and whose top level carries `topLines`.
    private func dag(task taskLines: [String] = [], top topLines: [String] = []) -> String {
        (["dag_id: limits", "schedule: \"@daily\"", "start_date: 2024-01-01"] + topLines
            + ["tasks:", "  - id: a", "    command: ls"] + taskLines.map { "    " + $0 }).joined(separator: "\n") + "\n"
    }

    /// The `file:line: field: message` lines of the load error, or a failure when the text loads.
    private func errorLines(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> [String] {
        do {
            let dag = try DagParser.parse(text: text, file: self.file)
            XCTFail("expected an error, parsed DAG \(dag.dagId)", file: file, line: line)
            return []
        } catch {
            return error.description.components(separatedBy: "\n")
        }
    }

    private func parses(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> DAG? {
        do { return try DagParser.parse(text: text, file: self.file) } catch {
            XCTFail("expected a valid DAG, got:\n\(error.description)", file: file, line: line)
            return nil
        }
    }

    func testRetriesAtInt64MaxAreRefusedAtTheirLine() {
        // The issue's file: it validated, then every trigger, test and daemon start died of an overflow.
        XCTAssertEqual(errorLines(dag(task: ["retries: 9223372036854775807"])),
                       ["dags/limits.yaml:7: tasks[0].retries: 9223372036854775807 is out of range: must be between 0 and 100"])
        XCTAssertEqual(errorLines(dag(task: ["retries: 9223372036854775808"])),
                       ["dags/limits.yaml:7: tasks[0].retries: '9223372036854775808' is not a whole number"])
        XCTAssertEqual(errorLines(dag(task: ["retries: 101"])),
                       ["dags/limits.yaml:7: tasks[0].retries: 101 is out of range: must be between 0 and 100"])
        XCTAssertEqual(parses(dag(task: ["retries: 100"]))?.tasks.first?.retry.maxTries, 101)
    }

    func testHugeDurationsAreRefused() {
        XCTAssertEqual(errorLines(dag(task: ["retry_delay: 1e300"])),
                       ["dags/limits.yaml:7: tasks[0].retry_delay: '1e300' is out of range: durations are at most 365 days"])
        let fields = ["max_retry_delay", "execution_timeout", "sla"]
        for field in fields {
            XCTAssertEqual(errorLines(dag(task: ["\(field): 366d"])),
                           ["dags/limits.yaml:7: tasks[0].\(field): '366d' is out of range: durations are at most 365 days"])
        }
        XCTAssertEqual(errorLines(dag(top: ["sla: 8761h"])),
                       ["dags/limits.yaml:4: sla: '8761h' is out of range: durations are at most 365 days"])
        // 365 days exactly is the longest duration allowed.
        let longest = parses(dag(task: ["retry_delay: 365d", "max_retry_delay: 31536000", "execution_timeout: 8760h"]))?.tasks.first
        XCTAssertEqual(longest?.retry.retryDelay, 31_536_000)
        XCTAssertEqual(longest?.retry.maxRetryDelay, 31_536_000)
        XCTAssertEqual(longest?.executionTimeout, 31_536_000)
    }

    func testSensorDurationsAreBounded() {
        let sensor = #"sensor: { file: "x", poke_interval: 1e300, timeout: 1e12 }"#
        let text = ["dag_id: limits", "schedule: \"@daily\"", "start_date: 2024-01-01", "tasks:", "  - id: a", "    " + sensor]
            .joined(separator: "\n")
        XCTAssertEqual(errorLines(text), [
            "dags/limits.yaml:6: tasks[0].sensor.poke_interval: '1e300' is out of range: durations are at most 365 days",
            "dags/limits.yaml:6: tasks[0].sensor.timeout: '1e12' is out of range: durations are at most 365 days",
        ])
    }

    func testDefaultsAreBoundedAtTheirOwnLine() {
        let text = """
            dag_id: limits
            schedule: "@daily"
            start_date: 2024-01-01
            defaults:
              retries: 1000
            tasks: [{ id: a, command: ls }, { id: b, command: ls }]
            """
        XCTAssertEqual(errorLines(text), ["dags/limits.yaml:5: defaults.retries: 1000 is out of range: must be between 0 and 100"])
    }

    func testPriorityAndActiveLimitsAreBounded() {
        XCTAssertEqual(errorLines(dag(task: ["priority_weight: 1000001"])),
                       ["dags/limits.yaml:7: tasks[0].priority_weight: 1000001 is out of range: must be between -1,000,000 and 1,000,000"])
        XCTAssertEqual(errorLines(dag(task: ["priority_weight: -9223372036854775808"])),
                       ["dags/limits.yaml:7: tasks[0].priority_weight: -9223372036854775808 is out of range: must be between -1,000,000 and 1,000,000"])
        XCTAssertEqual(errorLines(dag(top: ["max_active_runs: 10001", "max_active_tasks: 99999999999"])), [
            "dags/limits.yaml:4: max_active_runs: 10001 is out of range: must be between 1 and 10,000",
            "dags/limits.yaml:5: max_active_tasks: 99999999999 is out of range: must be between 1 and 10,000",
        ])
        let edges = parses(dag(task: ["priority_weight: -1000000"], top: ["max_active_runs: 10000", "max_active_tasks: 1"]))
        XCTAssertEqual(edges?.tasks.first?.priorityWeight, -1_000_000)
        XCTAssertEqual(edges?.maxActiveRuns, 10_000)
        XCTAssertEqual(edges?.maxActiveTasks, 1)
    }

    func testLongestBackoffOfAValidFileStaysADate() throws {
        // The most a file may ask for: 100 retries, a year's delay, doubling. Every wait is at most a year, so every
        // retry time is a date that formats (the task page formats it) without trapping.
        let task = try XCTUnwrap(parses(dag(task: ["retries: 100", "retry_delay: 365d", "retry_exponential_backoff: true"]))?.tasks.first)
        let start = try XCTUnwrap(DateParsing.parse("2024-01-01", in: TimeZone(secondsFromGMT: 0) ?? .current))
        for tryNumber in 1...task.retry.maxTries {
            let wait = task.retry.delay(afterTry: tryNumber)
            XCTAssertEqual(wait, 31_536_000, "try \(tryNumber)")
            XCTAssertEqual(DateParsing.isoUTC(start.addingTimeInterval(wait)), "2024-12-31T00:00:00Z")
        }
    }

    func testFormattingNeverTrapsOnAbsurdInstants() {
        // A store row or a hand-built value may hold anything; formatting clamps rather than trapping.
        for seconds in [1e300, -1e300, Double.infinity, -Double.infinity, Double.nan, 9.3e18] {
            XCTAssertFalse(DateParsing.isoUTC(Date(timeIntervalSince1970: seconds)).isEmpty)
        }
    }
}
