import Foundation
@testable import Transforms
import XCTest

/// The transforms' rule and test files (silver.clean rules, quality tests) have the DAG files' YAML budget: an
/// alias bomb in a `values:` list is refused at its line instead of expanding into the task's memory.
final class YAMLFileBudgetTests: XCTestCase {
    func testAliasBombInAQualityFileIsRefusedAtItsLine() throws {
        let directory = try TemporaryDirectory()
        var lines = ["anchors:", "  a: &a [x, x, x, x, x, x, x, x, x]"]
        let names = ["a", "b", "c", "d", "e", "f", "g", "h", "i"]
        for (previous, name) in zip(names, names.dropFirst()) {
            lines.append("  \(name): &\(name) [" + Array(repeating: "*\(previous)", count: 9).joined(separator: ", ") + "]")
        }
        lines += ["tests:", "  - table: t", "    accepted_values: { column: c, values: *i }"]
        let path = directory.file("quality.yaml")
        try lines.joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try YAMLFile(path: path)) { error in
            XCTAssertEqual("\(error)", "\(path):7: the YAML expands to more than 100,000 nodes (are aliases (*name) repeating a large anchor?)")
        }
    }

    func testFilesOverOneMebibyteAreRefused() throws {
        let directory = try TemporaryDirectory()
        let path = directory.file("rules.yaml")
        try ("tables: {}\n" + String(repeating: "#\n", count: 1 << 19)).write(toFile: path, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try YAMLFile(path: path)) { error in
            XCTAssertEqual("\(error)", "\(path): the file is larger than 1 MiB")
        }
    }
}
