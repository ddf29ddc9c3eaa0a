import Foundation
import XCTest
@testable import Transforms

/// silver.clean fails loudly: too many rejects, schema drift and broken files fail the task, publish nothing,
/// and say why in the log and the result file the task page reads.
final class SilverCleanFailureTests: XCTestCase {
    private var folder: TemporaryDirectory!

    override func setUpWithError() throws {
        folder = try TemporaryDirectory()
        try folder.write("rules.yaml", """
            tables:
              sales:
                key: [id]
                columns:
                  - { name: id, type: string, required: true }
                  - { name: price, type: decimal, required: true, min: 0 }
            """)
    }

    private func context(ds: String = "2024-01-01") -> TransformContext {
        TransformContext(
            dagId: "d", taskId: "t", runId: "r", ds: ds, dataIntervalStart: Date(timeIntervalSince1970: 1_704_067_200),
            dataIntervalEnd: Date(timeIntervalSince1970: 1_704_153_600), folder: folder.path, home: folder.path,
            lake: LocalLake(root: folder.file("lake")), warehouse: "sqlite://\(folder.file("warehouse.db"))",
            workDatabase: folder.file("work.db"), connections: Connections(environment: [:]), log: TransformLog())
    }

    private func bronze(_ text: String, ds: String = "2024-01-01", bytes: [UInt8]? = nil) throws {
        let directory = folder.file("lake/bronze/shop/sales/ds=\(ds)")
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        if let bytes { try Data(bytes).write(to: URL(fileURLWithPath: "\(directory)/sales.csv")) } else { try folder.write("lake/bronze/shop/sales/ds=\(ds)/sales.csv", text) }
    }

    private func clean(_ context: TransformContext) throws {
        try SilverClean.run(try TransformOptions(operation: "silver.clean", json: #"{"rules": "rules.yaml", "source": "shop"}"#), context)
    }

    private func silver(_ ds: String = "2024-01-01") -> String { folder.file("lake/silver/sales/ds=\(ds)") }

    private func read(_ path: String) throws -> String { try String(contentsOfFile: path, encoding: .utf8) }

    func testADayOfDecimalCommasFailsAndPublishesNothing() throws {
        // A clean day is published.
        try bronze("id,price\nA1,12.50\nA2,3\nA3,4.25\nA4,1\n")
        try clean(context())
        let published = try read("\(silver())/data.csv")
        XCTAssertEqual(published, "id,price\nA1,12.50\nA2,3\nA3,4.25\nA4,1\n")
        // The same day re-run with prices written `12,50` (quoted, as a CSV writer quotes them): type rejects, 3 of 4.
        try bronze("id,price\nA1,\"12,50\"\nA2,\"3,00\"\nA3,\"4,25\"\nA4,1\n")
        let run = context()
        XCTAssertThrowsError(try clean(run)) { error in
            XCTAssertEqual("\(error)", "silver.clean: table sales ds=2024-01-01: 3 of 4 rows rejected (75.0%, above max_reject_ratio 0.5): type 3; "
                           + "nothing published, rejects kept in quarantine/sales/ds=2024-01-01/rejects.csv")
        }
        XCTAssertEqual(try read("\(silver())/data.csv"), published, "the previous partition stays as it was")
        let quarantine = folder.file("lake/quarantine/sales/ds=2024-01-01")
        let rejects = try read("\(quarantine)/rejects.csv").split(separator: "\n")
        XCTAssertEqual(rejects.count, 4)
        XCTAssertEqual(rejects[1], "sales.csv,2,type,\"price '12,50' is not a number\",A1,\"12,50\"")
        XCTAssertFalse(FileManager.default.fileExists(atPath: "\(quarantine)/data.csv"))
        XCTAssertTrue(try FileManager.default.contentsOfDirectory(atPath: folder.file("lake/.staging")).isEmpty, "no staging left behind")

        // What the task page shows: the table, the ratio, the top reasons, example rows.
        let problem = try XCTUnwrap(run.results.problemList.first)
        XCTAssertEqual(problem["kind"] as? String, "reject_limit")
        XCTAssertEqual(problem["severity"] as? String, "error")
        let details = try XCTUnwrap(problem["details"] as? [String: Any])
        XCTAssertEqual(details["table"] as? String, "sales")
        XCTAssertEqual(details["ratio"] as? Double, 0.75)
        XCTAssertEqual((details["top_reasons"] as? [[String: Any]])?.first?["rule"] as? String, "type")
        XCTAssertEqual((details["top_reasons"] as? [[String: Any]])?.first?["count"] as? Int, 3)
        let examples = try XCTUnwrap(details["examples"] as? [[String: Any]])
        XCTAssertEqual(examples.count, 3)
        XCTAssertEqual(examples[0]["file"] as? String, "sales.csv")
        XCTAssertEqual(examples[0]["line"] as? Int, 2)
        XCTAssertEqual(examples[0]["reason"] as? String, "price '12,50' is not a number")
        // The result file the CLI writes carries it.
        let resultPath = folder.file("attempt-1.result.json")
        try run.results.write(operation: "silver.clean", succeeded: false, to: resultPath)
        XCTAssertTrue(try read(resultPath).contains("\"kind\":\"reject_limit\""))
    }

    func testUnquotedDecimalCommasShiftFieldsAndAreRejected() throws {
        try bronze("id,price\nA1,12,50\nA2,3\n")
        XCTAssertNoThrow(try clean(context()), "1 of 2 is not above 0.5")
        XCTAssertEqual(try read("\(silver())/data.csv"), "id,price\nA2,3\n")
        XCTAssertTrue(try read("\(silver())/rejects.csv").contains("sales.csv,2,columns,\"the row has 3 fields, the header 2 (an unquoted comma?)\""))
    }

    func testDuplicatesAreNotRejects() throws {
        try folder.write("rules.yaml", """
            tables:
              sales:
                key: [id]
                max_reject_ratio: 0
                columns:
                  - { name: id, type: string, required: true }
                  - { name: price, type: decimal }
            """)
        try bronze("id,price\nA1,1\nA1,2\nA1,3\nA2,4\n")
        try clean(context())
        XCTAssertEqual(try read("\(silver())/data.csv"), "id,price\nA1,3\nA2,4\n")
        let quality = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(silver())/quality.json"))) as? [String: Any])
        XCTAssertEqual((quality["rejected"] as? [String: Any])?["duplicate"] as? Int, 2)
        XCTAssertEqual(quality["reject_ratio"] as? Double, 0)
    }

    func testTheLimitIsATableField() throws {
        try folder.write("rules.yaml", """
            tables:
              sales:
                max_reject_ratio: 0.2
                columns:
                  - { name: id, type: string, required: true }
                  - { name: price, type: decimal }
            """)
        try bronze("id,price\nA1,1\n,2\nA3,3\nA4,4\n")
        XCTAssertThrowsError(try clean(context())) { XCTAssertTrue("\($0)".contains("1 of 4 rows rejected (25.0%, above max_reject_ratio 0.2): required 1"), "\($0)") }
        XCTAssertFalse(FileManager.default.fileExists(atPath: silver()))
        try folder.write("rules.yaml", "tables:\n  sales:\n    max_reject_ratio: 1.5\n    columns:\n      - { name: id }\n")
        XCTAssertThrowsError(try clean(context())) {
            XCTAssertEqual("\($0)", "\(self.folder.file("rules.yaml")):3: tables.sales.max_reject_ratio: must be between 0 and 1 (got 1.5)")
        }
    }

    func testSchemaDriftFailsAtOnceNamingTheNearestColumn() throws {
        try bronze("id,unit_price\nA1,1\n")
        let run = context()
        XCTAssertThrowsError(try clean(run)) { error in
            let file = self.folder.file("lake/bronze/shop/sales/ds=2024-01-01/sales.csv")
            XCTAssertEqual("\(error)", "\(file):1: the header has no column 'price'; 'unit_price', which the rules do not declare, is the nearest to it (renamed?) "
                           + "(header: id, unit_price; declared: id, price)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: silver()))
        XCTAssertEqual(run.results.problemList.first?["kind"] as? String, "schema_drift")
        XCTAssertEqual((run.results.problemList.first?["details"] as? [String: Any])?["table"] as? String, "sales")
        try bronze("id,price,ID\nA1,1,A2\n")
        XCTAssertThrowsError(try clean(context())) { XCTAssertTrue("\($0)".hasSuffix("sales.csv:1: the header names column 'id' twice (header: id, price, ID)"), "\($0)") }
        // An extra column alone is no drift: it is dropped.
        try bronze("id,price,comment\nA1,1,x\n")
        XCTAssertNoThrow(try clean(context()))
        XCTAssertEqual(try read("\(silver())/data.csv"), "id,price\nA1,1\n")
    }

    func testBrokenFilesGiveRejectsWithFileAndLineOrFailClearly() throws {
        // Not UTF-8 (Latin-1 é), a NUL byte, a cut-off last line: rejects with file and line.
        try bronze("", bytes: Array("id,price\nA1,1\nA\u{E9}".utf8.prefix(17)) + [0xE9] + Array(",2\nA\0,3\nA4,4\nA5,5\nA6,6\nA7".utf8))
        try clean(context())
        let rejects = try read("\(silver())/rejects.csv")
        XCTAssertTrue(rejects.contains("sales.csv,3,utf8,id is not valid UTF-8"), rejects)
        XCTAssertTrue(rejects.contains("sales.csv,4,utf8,id contains a NUL byte"), rejects)
        XCTAssertTrue(rejects.contains("sales.csv,8,columns,\"the row has 1 field, the header 2 (cut off?)\""), rejects)
        XCTAssertEqual(try read("\(silver())/data.csv"), "id,price\nA1,1\nA4,4\nA5,5\nA6,6\n")
        // An unterminated quote at the end: the task fails naming the file and line, and publishes nothing.
        try bronze("id,price\nB1,1\nB2,\"2\n", ds: "2024-01-02")
        XCTAssertThrowsError(try clean(context(ds: "2024-01-02"))) { error in
            XCTAssertTrue("\(error)".hasSuffix("ds=2024-01-02/sales.csv:3: a quoted field is not closed before the end of the file"), "\(error)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: silver("2024-01-02")))
        XCTAssertTrue(try FileManager.default.contentsOfDirectory(atPath: folder.file("lake/.staging")).isEmpty, "no staging left behind")
    }

    /// Two files of a day with their columns in different orders: each reject stands under the right raw columns.
    func testRejectsOfFilesWithAnotherColumnOrderStandUnderTheirColumns() throws {
        try bronze("id,price\nA1,1\n")
        try folder.write("lake/bronze/shop/sales/ds=2024-01-01/sales2.csv", "price,note,id\n-5,x,B1\n2,y,B2\n")
        try clean(context())
        XCTAssertEqual(try read("\(silver())/data.csv"), "id,price\nA1,1\nB2,2\n")
        XCTAssertEqual(try read("\(silver())/rejects.csv"), "_file,_line,_rule,_reason,id,price\nsales2.csv,2,range,price -5 is below 0,B1,-5\n")
    }

    /// A 0-byte file and a header-only one, the whole day: a broken export, not a quiet day, unless the rules say so.
    func testADayWithoutDataRowsFailsUnlessTheTableAllowsEmpty() throws {
        try bronze("id,price\nA1,1\n")
        try clean(context())
        let published = try read("\(silver())/data.csv")
        let day = folder.file("lake/bronze/shop/sales/ds=2024-01-01")
        try bronze("", bytes: [])
        try folder.write("lake/bronze/shop/sales/ds=2024-01-01/sales2.csv", "id,price\n\n")
        let run = context()
        let expected = "silver.clean: table sales ds=2024-01-01: no data rows in \(day)/sales.csv, \(day)/sales2.csv (empty or header only); "
            + "nothing published (set allow_empty: true for sales in the rules if it may be empty some days)"
        XCTAssertThrowsError(try clean(run)) { XCTAssertEqual("\($0)", expected) }
        XCTAssertEqual(try read("\(silver())/data.csv"), published, "the previous partition stays as it was")
        XCTAssertTrue(try FileManager.default.contentsOfDirectory(atPath: folder.file("lake/.staging")).isEmpty, "no staging left behind")
        let problem = try XCTUnwrap(run.results.problemList.first)
        XCTAssertEqual(problem["kind"] as? String, "empty_input")
        XCTAssertEqual(problem["severity"] as? String, "error")
        XCTAssertEqual(problem["message"] as? String, expected)
        let details = try XCTUnwrap(problem["details"] as? [String: Any])
        XCTAssertEqual(details["table"] as? String, "sales")
        XCTAssertEqual(details["files"] as? [String], ["\(day)/sales.csv", "\(day)/sales2.csv"])

        // A table that may be empty some days says so: an empty partition is published.
        try folder.write("rules.yaml", """
            tables:
              sales:
                allow_empty: true
                columns:
                  - { name: id, type: string, required: true }
                  - { name: price, type: decimal }
            """)
        try clean(context())
        XCTAssertEqual(try read("\(silver())/data.csv"), "id,price\n")
        try folder.write("rules.yaml", "tables:\n  sales:\n    allow_empty: sometimes\n    columns:\n      - { name: id }\n")
        XCTAssertThrowsError(try clean(context())) { XCTAssertTrue("\($0)".hasPrefix("\(self.folder.file("rules.yaml")):3: tables.sales.allow_empty: "), "\($0)") }
    }
}
