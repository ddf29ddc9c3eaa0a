import Foundation
import XCTest
@testable import Workflow

/// Large DAGs load in time linear in their tasks and edges (the load time itself is a figure of scripts/bench).
final class LinearLoadingTests: XCTestCase {
    /// `count` tasks, each depending on the one before, listed in reverse so that order comes from the sort.
    static func chain(_ count: Int, reversed: Bool = true) -> String {
        var lines = ["dag_id: chain", "schedule: null", "start_date: 2024-01-01", "tasks:"]
        let indices = reversed ? Array((0..<count).reversed()) : Array(0..<count)
        for index in indices {
            lines.append("  - id: t\(index)")
            lines.append("    command: echo \(index)")
            if index > 0 { lines.append("    depends_on: [t\(index - 1)]") }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    func testTenThousandTaskChainLoadsInDependencyOrder() throws {
        let dag = try DagParser.parse(text: Self.chain(10_000), file: "dags/chain.yaml")
        XCTAssertEqual(dag.tasks.count, 10_000)
        XCTAssertEqual(dag.tasks.map(\.id), (0..<10_000).map { "t\($0)" })
        XCTAssertEqual(dag.task("t9999")?.dependsOn, ["t9998"])
        XCTAssertEqual(dag.withDownstream(["t9990"]).count, 10)
    }

    func testOrderKeepsFileOrderWaveByWave() throws {
        // d and b are ready first (file order), then c (released by b), then a (needs c and d).
        let dag = try DagParser.parse(text: """
            dag_id: waves
            schedule: null
            start_date: 2024-01-01
            tasks:
              - { id: a, command: ls, depends_on: [c, d] }
              - { id: d, command: ls }
              - { id: c, command: ls, depends_on: [b, b] }
              - { id: b, command: ls }
            """, file: "dags/waves.yaml")
        XCTAssertEqual(dag.tasks.map(\.id), ["d", "b", "c", "a"])
    }

    func testACycleAtTheEndOfALongChainIsNamed() {
        var text = Self.chain(5_000, reversed: false)
        text = text.replacingOccurrences(of: "  - id: t0\n    command: echo 0\n", with: "  - id: t0\n    command: echo 0\n    depends_on: [t4999]\n")
        XCTAssertThrowsError(try DagParser.parse(text: text, file: "dags/chain.yaml")) { error in
            let description = (error as? DagLoadError)?.description ?? ""
            // Named in run order, from the task after the one that closes it, at that task's line.
            XCTAssertTrue(description.hasPrefix("dags/chain.yaml:8: tasks[1].depends_on: dependency cycle: t1 -> t2 -> t3 -> "), description)
            XCTAssertTrue(description.hasSuffix(" -> t4998 -> t4999 -> t0 -> t1"), description)
        }
    }

    func testThousandsOfProblemsAreCountedAndTheFirstHundredShown() {
        var lines = ["dag_id: errors", "schedule: null", "start_date: 2024-01-01", "tasks:"]
        for index in 0..<5_000 { lines.append("  - { id: t\(index), command: ls, retries: many }") }
        XCTAssertThrowsError(try DagParser.parse(text: lines.joined(separator: "\n"), file: "dags/errors.yaml")) { error in
            let issues = (error as? DagLoadError)?.issues ?? []
            XCTAssertEqual(issues.count, 101)
            XCTAssertEqual(issues.first?.description, "tasks[0].retries: 'many' is not a whole number")
            XCTAssertEqual(issues.first?.line, 5)
            XCTAssertEqual(issues[99].field, "tasks[99].retries")
            XCTAssertEqual(issues.last?.description, "… and 4900 more problems (the first 100 are shown)")
        }
    }
}
