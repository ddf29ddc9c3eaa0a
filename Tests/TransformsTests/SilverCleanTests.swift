import Foundation
import XCTest
@testable import Transforms

/// silver.clean on a small lake: the rejects of a dedupe stand under the raw columns they came from, whatever
/// order the bronze file has its columns in.
final class SilverCleanTests: XCTestCase {
    func testSupersededRowsAreRejectedUnderTheirRawColumns() throws {
        let folder = try TemporaryDirectory()
        try folder.write("rules.yaml", """
            tables:
              people:
                key: [id]
                columns:
                  - { name: id, type: int, required: true }
                  - { name: name, type: string, lowercase: true }
            """)
        let lake = LocalLake(root: folder.file("lake"))
        try FileManager.default.createDirectory(atPath: folder.file("lake/bronze/crm/people/ds=2024-01-01"), withIntermediateDirectories: true)
        // Raw columns in another order than the rules, with one more column the rules do not keep.
        try folder.write("lake/bronze/crm/people/ds=2024-01-01/people.csv", "extra,name,id\nx,ANN,1\ny,Bob,2\nz,Anne,1\n")
        let context = TransformContext(
            dagId: "d", taskId: "t", runId: "r", ds: "2024-01-01", dataIntervalStart: Date(timeIntervalSince1970: 1_704_067_200),
            dataIntervalEnd: Date(timeIntervalSince1970: 1_704_153_600), folder: folder.path, home: folder.path, lake: lake,
            warehouse: "sqlite://\(folder.file("warehouse.db"))", workDatabase: folder.file("work.db"), connections: Connections(environment: [:]),
            log: TransformLog())
        try SilverClean.run(try TransformOptions(operation: "silver.clean", json: #"{"rules": "rules.yaml", "source": "crm"}"#), context)

        let partition = folder.file("lake/silver/people/ds=2024-01-01")
        XCTAssertEqual(try String(contentsOfFile: "\(partition)/data.csv", encoding: .utf8), "id,name\n2,bob\n1,anne\n")
        let rejects = try String(contentsOfFile: "\(partition)/rejects.csv", encoding: .utf8)
        XCTAssertEqual(rejects, "_file,_line,_rule,_reason,extra,name,id\n,,duplicate,a later row has the same id,,ann,1\n")
        XCTAssertEqual(context.results.isEmpty, false, "the rows written are recorded for the task page")
    }
}
