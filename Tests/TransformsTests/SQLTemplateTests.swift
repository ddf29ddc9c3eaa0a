import Foundation
import SQLiteDirect
@testable import Transforms
import XCTest

/// Templated values reach SQL only as bound parameters, and `ds` is always a real date.
final class SQLTemplateTests: XCTestCase {
    private func render(_ text: String, references: Bool = true) throws -> String {
        try SQLTemplate(text, where: "model.sql", allowReferences: references).sql
    }

    func testWhereATemplateSitsDecidesWhatItBecomes() throws {
        XCTAssertEqual(try render("SELECT * FROM t WHERE ds = {{ ds }}"), "SELECT * FROM t WHERE ds = :ds")
        XCTAssertEqual(try render("SELECT * FROM t WHERE ds = '{{ ds }}'"), "SELECT * FROM t WHERE ds = :ds")
        XCTAssertEqual(try render("SELECT '{{ ds }}T00:00:00Z' AS s, 'it''s {{ds}}!' AS q"),
                       "SELECT (:ds || 'T00:00:00Z') AS s, ('it''s ' || :ds || '!') AS q")
        XCTAssertEqual(try render("SELECT {{data_interval_start}}, {{ data_interval_end }} FROM {{ ref('fact_sales') }}"),
                       "SELECT :data_interval_start, :data_interval_end FROM \"fact_sales\"")
        XCTAssertEqual(try render("SELECT 1 -- for {{ ds }}\n/* {{ ds }} */ FROM t"), "SELECT 1 -- for ds\n/* ds */ FROM t")
        XCTAssertEqual(try render("SELECT 'no template', \"col\" FROM t"), "SELECT 'no template', \"col\" FROM t")
        XCTAssertEqual(try SQLTemplate("SELECT 1 FROM {{ ref('a') }} JOIN {{ ref(\"b\") }}", where: "m", allowReferences: true).references, ["a", "b"])
    }

    func testBadTemplatesAreErrors() {
        XCTAssertThrowsError(try render("SELECT {{ dss }}")) { error in
            XCTAssertEqual("\(error)", "model.sql: unknown template '{{ dss }}' (use ref('model'), ds, data_interval_start, data_interval_end)")
        }
        XCTAssertThrowsError(try render("SELECT {{ ds ")) { XCTAssertEqual("\($0)", "model.sql: '{{' without a closing '}}'") }
        XCTAssertThrowsError(try render("SELECT \"{{ ds }}\" FROM t")) { XCTAssertEqual("\($0)", "model.sql: a template inside a double-quoted identifier") }
        XCTAssertThrowsError(try render("SELECT * FROM {{ ref('x') }}", references: false)) { XCTAssertEqual("\($0)", "model.sql: ref() is only for gold models") }
        XCTAssertThrowsError(try render("SELECT 'open {{ ds }}")) { XCTAssertEqual("\($0)", "model.sql: a string literal is not closed") }
    }

    func testDSMustBeARealDate() {
        // Years 0001–9999, as DAG dates go; year 0 and leap days of non-leap centuries are no dates.
        for good in ["2024-01-31", "2024-02-29", "1999-12-31", "0001-01-01", "0999-12-31", "0400-02-29", "9999-12-31"] { XCTAssertNoThrow(try TransformContext.checkDS(good), good) }
        for bad in ["2024-02-30", "2024-1-31", "20240131", "", "2024-01-31 ", "2024-01-31'); DROP TABLE x; --", "../../etc", "2024-01-31T00:00:00Z",
                    "0000-01-01", "0900-02-29", "2024-13-01", "2024-00-10", "+024-01-01", "2024-01-3\u{0663}"] {
            XCTAssertThrowsError(try TransformContext.checkDS(bad), bad)
        }
        var environment = ["ORCHESTRATOR_HOME": "/tmp/h", "ORCHESTRATOR_DS": "2024-01-01'); DROP TABLE fact_sales; --",
                           "ORCHESTRATOR_DATA_INTERVAL_START": "2024-01-01T00:00:00Z", "ORCHESTRATOR_DATA_INTERVAL_END": "2024-01-02T00:00:00Z"]
        XCTAssertThrowsError(try TransformContext.fromEnvironment(environment, folder: "/tmp")) { error in
            XCTAssertEqual("\(error)", "ORCHESTRATOR_DS '2024-01-01'); DROP TABLE fact_sales; --' is not a date (YYYY-MM-DD)")
        }
        environment["ORCHESTRATOR_DS"] = "2024-01-01"
        XCTAssertNoThrow(try TransformContext.fromEnvironment(environment, folder: "/tmp"))
    }

    /// Even a hostile value, if one got past the date check, is only a value: the table survives.
    func testACraftedValueIsBoundHarmlessly() throws {
        let folder = try TemporaryDirectory()
        let db = try SQLiteDatabase(path: folder.file("w.db"), create: true)
        try db.execute("CREATE TABLE x (ds TEXT); INSERT INTO x VALUES ('2024-01-01')")
        let crafted = "2024-01-01'); DROP TABLE x; --"
        for text in ["SELECT * FROM x WHERE ds = '{{ ds }}'", "SELECT * FROM x WHERE ds = {{ ds }}", "SELECT * FROM x WHERE ds LIKE '{{ ds }}%'"] {
            let statement = try db.prepareSingle(try render(text))
            try statement.bind(named: ["ds": .text(crafted)])
            XCTAssertEqual(try statement.allRows().count, 0, text)
        }
        XCTAssertEqual(try db.prepare("SELECT COUNT(*) FROM x").allRows(), [["1"]], "the table survives")
        // A second statement is refused rather than run.
        XCTAssertThrowsError(try db.prepareSingle("SELECT 1; DROP TABLE x")) { XCTAssertTrue("\($0)".contains("only one statement"), "\($0)") }
        XCTAssertNoThrow(try db.prepareSingle("SELECT 1; -- done\n;"))
        XCTAssertThrowsError(try db.run("SELECT :other", named: ["ds": .text("2024-01-01")])) { XCTAssertTrue("\($0)".contains("unknown parameter :other"), "\($0)") }
        XCTAssertEqual(try db.prepare("SELECT COUNT(*) FROM x").allRows(), [["1"]])
    }

    /// gold.sql and quality.check refuse a context whose ds is not a date, before running any SQL.
    func testOperationsRefuseACraftedDS() throws {
        let folder = try TemporaryDirectory()
        try FileManager.default.createDirectory(atPath: folder.file("models"), withIntermediateDirectories: true)
        try folder.write("models/daily.sql", "-- materialized: partition\nSELECT {{ ds }} AS day")
        try folder.write("quality.yaml", "tests:\n  - { table: x, row_count: { min: 1 }, where: \"ds = '{{ ds }}'\" }\n")
        let warehouse = folder.file("warehouse.db")
        let db = try SQLiteDatabase(path: warehouse, create: true)
        try db.execute("CREATE TABLE x (ds TEXT); INSERT INTO x VALUES ('2024-01-01')")
        func context(ds: String) -> TransformContext {
            TransformContext(dagId: "d", taskId: "t", runId: "r", ds: ds, dataIntervalStart: Date(timeIntervalSince1970: 1_704_067_200),
                             dataIntervalEnd: Date(timeIntervalSince1970: 1_704_153_600), folder: folder.path, home: folder.path,
                             lake: LocalLake(root: folder.file("lake")), warehouse: "sqlite://\(warehouse)", workDatabase: warehouse,
                             connections: Connections(environment: [:]), log: TransformLog())
        }
        let crafted = "2024-01-01'); DROP TABLE x; --"
        XCTAssertThrowsError(try GoldSQL.run(try TransformOptions(operation: "gold.sql", json: #"{"models": "models", "silver": []}"#), context(ds: crafted)))
        XCTAssertThrowsError(try QualityCheck.run(try TransformOptions(operation: "quality.check", json: #"{"tests": "quality.yaml"}"#), context(ds: crafted)))
        XCTAssertEqual(try db.prepare("SELECT COUNT(*) FROM x").allRows(), [["1"]], "the table survives")
        // The same files with a real date: the value is bound, in the model and in the test.
        try GoldSQL.run(try TransformOptions(operation: "gold.sql", json: #"{"models": "models", "silver": []}"#), context(ds: "2024-01-01"))
        XCTAssertEqual(try db.prepare("SELECT ds, day FROM daily").allRows(), [["2024-01-01", "2024-01-01"]])
        try QualityCheck.run(try TransformOptions(operation: "quality.check", json: #"{"tests": "quality.yaml"}"#), context(ds: "2024-01-01"))
        XCTAssertThrowsError(try QualityCheck.run(try TransformOptions(operation: "quality.check", json: #"{"tests": "quality.yaml"}"#), context(ds: "2024-01-02")),
                             "no row that day: row_count fails, so the bound ds did reach the where clause")
    }
}
