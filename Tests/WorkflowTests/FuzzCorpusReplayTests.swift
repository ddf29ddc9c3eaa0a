import Foundation
import XCTest
@testable import Workflow

/// A quick smoke of scripts/fuzz: every input of the kept DAG-parser corpus goes through the parser (and the small
/// parsers the fuzz target also feeds) without crashing, and the seeds that are valid DAGs still load.
final class FuzzCorpusReplayTests: XCTestCase {
    static let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fuzz/corpus/dag_parser")

    func testEveryCorpusInputParsesOrFailsCleanly() throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: Self.corpus.path).sorted()
        XCTAssertGreaterThanOrEqual(names.count, 9)
        var loaded: [String] = []
        for name in names {
            let data = try Data(contentsOf: Self.corpus.appendingPathComponent(name))
            let text = String(decoding: data, as: UTF8.self)
            do {
                let dag = try DagParser.parse(text: text, file: name)
                loaded.append(name)
                for task in dag.tasks { _ = task.retry.delay(afterTry: task.retry.maxTries) }
            } catch {
                XCTAssertFalse(error.issues.isEmpty, name)
            }
            _ = DateParsing.parse(text, in: TimeZone(secondsFromGMT: 0) ?? .current)
            _ = DurationParser.seconds(text)
            _ = try? CronExpression(parsing: text)
        }
        // The repository's own DAGs are seeds, and they are valid.
        for seed in ["seed-example_manual", "seed-example_medallion", "seed-shop_lake", "seed-social_elt", "seed-sensor", "seed-anchors"] {
            XCTAssertTrue(loaded.contains(seed), "\(seed) should load")
        }
    }
}
