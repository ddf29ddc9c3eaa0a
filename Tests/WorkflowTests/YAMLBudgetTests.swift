import Foundation
import XCTest
import Yams
@testable import Workflow
import YAMLLimits

/// Alias bombs, deep nesting and huge files are refused with a line, before anything large is built.
final class YAMLBudgetTests: XCTestCase {
    private let file = "dags/bomb.yaml"

    /// The "billion laughs" file of the issue: nine levels of nine aliases each, 9^9 scalars once expanded.
    static func billionLaughs(under field: String = "params") -> String {
        var lines = ["dag_id: bomb", "schedule: null", "start_date: 2024-01-01", "\(field):", "  a: &a [x, x, x, x, x, x, x, x, x]"]
        let names = ["a", "b", "c", "d", "e", "f", "g", "h", "i"]
        for (previous, name) in zip(names, names.dropFirst()) {
            lines.append("  \(name): &\(name) [" + Array(repeating: "*\(previous)", count: 9).joined(separator: ", ") + "]")
        }
        lines.append("tasks: [{ id: a, command: ls }]")
        return lines.joined(separator: "\n") + "\n"
    }

    private func errorLines(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> [String] {
        do {
            let dag = try DagParser.parse(text: text, file: self.file)
            XCTFail("expected an error, parsed DAG \(dag.dagId)", file: file, line: line)
            return []
        } catch {
            return error.description.components(separatedBy: "\n")
        }
    }

    func testBillionLaughsInParamsIsRefusedAtTheAliasThatSpendsTheBudget() {
        // Expanded sizes: a = 10 nodes, b = 91, c = 820, d = 7,381, e = 66,430; with f's first aliases the count
        // passes 100,000, on line 10.
        XCTAssertEqual(errorLines(Self.billionLaughs()),
                       ["dags/bomb.yaml:10: the YAML expands to more than 100,000 nodes (are aliases (*name) repeating a large anchor?)"])
    }

    func testAliasesAsMappingKeysAreRefusedBeforeYamsHashesThem() {
        // Yams hashes every key while composing: a key aliasing a large anchor cost a minute of CPU before the
        // parser ever saw the tree. Four levels (7,381 nodes) fit the budget; 14 such keys do not.
        var lines = Array(Self.billionLaughs().components(separatedBy: "\n").prefix(8))
        lines.append("  k: { " + (0..<14).map { "? [*d, \($0)] : 1" }.joined(separator: ", ") + " }")
        lines.append("tasks: [{ id: a, command: ls }]")
        XCTAssertEqual(errorLines(lines.joined(separator: "\n")),
                       ["dags/bomb.yaml:9: the YAML expands to more than 100,000 nodes (are aliases (*name) repeating a large anchor?)"])
    }

    func testModestAliasesStillWork() throws {
        let dag = try DagParser.parse(text: """
            dag_id: anchors
            schedule: null
            start_date: 2024-01-01
            params:
              regions: &regions [eu, us]
              copy: *regions
            defaults:
              retries: &three 3
            tasks:
              - { id: a, command: ls, retries: *three }
            """, file: file)
        XCTAssertEqual(dag.params["copy"], .array([.string("eu"), .string("us")]))
        XCTAssertEqual(dag.tasks.first?.retry.retries, 3)
    }

    func testTheBudgetCountsEveryExpandedNode() throws {
        // Exactly 100,000 nodes pass; one more is refused. Root mapping (1) + key and list (2) + list items.
        let items = Array(repeating: "x", count: 100_000 - 3).joined(separator: ",")
        XCTAssertNoThrow(try YAMLBudget.check("k: [\(items)]"))
        XCTAssertThrowsError(try YAMLBudget.check("k: [\(items),x]")) { error in
            XCTAssertEqual((error as? YAMLBudget.Exceeded)?.line, 1)
        }
        // The same count reached through an anchor and aliases.
        let hundred = Array(repeating: "x", count: 99).joined(separator: ",")
        let aliases = Array(repeating: "*h", count: 999).joined(separator: ",")
        // 1 root + 2 (key h, list) + 99 + 1 (key k) + 1 (list) + 999 × 100 = 100,004; 998 aliases make 99,904.
        XCTAssertThrowsError(try YAMLBudget.check("h: &h [\(hundred)]\nk: [\(aliases)]"))
        XCTAssertNoThrow(try YAMLBudget.check("h: &h [\(hundred)]\nk: [\(aliases.dropLast(3))]"))
    }

    func testDeepNestingIsRefused() {
        let deep = "dag_id: deep\nschedule: null\nstart_date: 2024-01-01\nparams:\n  p: " + String(repeating: "[", count: 120)
            + String(repeating: "]", count: 120) + "\ntasks: [{ id: a, command: ls }]\n"
        XCTAssertEqual(errorLines(deep), ["dags/bomb.yaml:5: the YAML nests lists and mappings more than 100 levels deep"])
    }

    func testFilesOverOneMebibyteAreRefusedUnread() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("budget-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let header = "dag_id: big\nschedule: null\nstart_date: 2024-01-01\ntasks: [{ id: a, command: ls }]\n"
        let path = folder.appendingPathComponent("big.yaml").path
        let padding = String(repeating: "# padding\n", count: (1 << 20) / 10)
        try (header + padding).write(toFile: path, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try DagParser.parse(file: path)) { error in
            XCTAssertEqual((error as? DagLoadError)?.description, "\(path): the file is larger than 1 MiB")
        }
        XCTAssertThrowsError(try DagParser.parse(text: header + padding, file: path)) { error in
            XCTAssertEqual((error as? DagLoadError)?.description, "\(path): the file is larger than 1 MiB")
        }
        // Just under the limit still loads.
        let fits = header + String(repeating: "#", count: (1 << 20) - header.utf8.count - 1) + "\n"
        try fits.write(toFile: path, atomically: true, encoding: .utf8)
        XCTAssertEqual(try DagParser.parse(file: path).dagId, "big")
    }
}
