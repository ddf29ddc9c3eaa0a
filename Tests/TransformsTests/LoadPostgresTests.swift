import Foundation
@testable import Transforms
import XCTest

final class LoadPostgresTests: XCTestCase {
    /// ds goes into a DDL default as text: a value that is no date fails before any connection is made (the
    /// configured server does not exist, so reaching it would fail differently).
    func testADSThatIsNoDateFailsBeforeConnecting() throws {
        let folder = try TemporaryDirectory()
        let context = TransformContext(
            dagId: "d", taskId: "t", runId: "r", ds: "2024-01-01'; DROP TABLE x; --", dataIntervalStart: Date(timeIntervalSince1970: 1_704_067_200),
            dataIntervalEnd: Date(timeIntervalSince1970: 1_704_153_600), folder: folder.path, home: folder.path,
            lake: LocalLake(root: folder.file("lake")), warehouse: "sqlite://\(folder.file("warehouse.db"))", workDatabase: folder.file("work.db"),
            connections: Connections(urls: ["reporting": "postgres://u:p@127.0.0.1:1/db"]), log: TransformLog())
        let options = try TransformOptions(operation: "load.postgres", json: #"{"connection": "reporting", "tables": ["daily"]}"#)
        XCTAssertThrowsError(try LoadPostgres.run(options, context)) { error in
            XCTAssertEqual("\(error)", "ORCHESTRATOR_DS '2024-01-01'; DROP TABLE x; --' is not a date (YYYY-MM-DD)")
        }
    }
}
