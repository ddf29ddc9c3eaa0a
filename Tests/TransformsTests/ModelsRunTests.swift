import Foundation
import SQLiteDirect
@testable import Transforms
import XCTest

/// models.run on a small project: every materialization, seeds, sources, schema and singular tests, selectors.
/// Runs on SQLite; `ModelsRunPostgresTests` runs the same project on the PostgreSQL the scripts start.
class ModelsRunTests: XCTestCase {
    var folder: TemporaryDirectory!

    override func setUpWithError() throws {
        folder = try TemporaryDirectory()
        try writeProject()
    }

    /// The target's URL; the PostgreSQL subclass returns its server's.
    func targetURL() throws -> String { "sqlite://\(folder.file("warehouse.db"))" }

    func context(ds: String) throws -> TransformContext {
        let day = try XCTUnwrap(TransformContext.parseTimestamp("\(ds)T00:00:00Z"))
        return TransformContext(
            dagId: "d", taskId: "t", runId: "r", ds: ds, dataIntervalStart: day, dataIntervalEnd: day.addingTimeInterval(86_400),
            folder: folder.path, home: folder.path, lake: LocalLake(root: folder.file("lake")), warehouse: "sqlite://\(folder.file("unused.db"))",
            workDatabase: folder.file("work.db"), connections: Connections(urls: ["target": try targetURL()]), log: TransformLog())
    }

    func write(_ name: String, _ text: String) throws {
        try FileManager.default.createDirectory(atPath: (folder.file(name) as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try folder.write(name, text)
    }

    /// A day's bronze drop of the shop's orders (as extract.files writes it): text, with a duplicated row.
    func writeDrop(ds: String, rows: String) throws {
        try write("lake/bronze/shop/orders/ds=\(ds)/orders.csv", "order_id,customer,amount,ordered_on\n" + rows)
    }

    func writeProject() throws {
        try write("project/seeds/customers.csv", "customer_id,name,tier\n1,Ada,gold\n2,Bob,silver\n3,Cy,gold\n")
        try write("project/seeds/customers.yml", "seeds:\n  - name: customers\n    config: { column_types: { tier: text } }\n")
        try write("project/staging/stg_orders.sql", """
            -- materialized: table
            SELECT DISTINCT CAST(TRIM(order_id) AS INTEGER) AS order_id, CAST(TRIM(customer) AS INTEGER) AS customer_id,
                   CAST(amount AS REAL) AS amount, ordered_on
            FROM {{ source('shop', 'orders') }}
            """)
        try write("project/intermediate/int_orders_named.sql", """
            {{ config(materialized='ephemeral') }}
            SELECT o.order_id, o.amount, o.ordered_on, c.name, c.tier
            FROM {{ ref('stg_orders') }} o JOIN {{ ref('customers') }} c ON c.customer_id = o.customer_id
            """)
        try write("project/marts/revenue_by_tier.sql", """
            WITH totals AS (SELECT tier, SUM(amount) AS revenue, COUNT(*) AS orders FROM {{ ref('int_orders_named') }} GROUP BY tier)
            SELECT tier, revenue, orders FROM totals
            """)
        try write("project/marts/daily_orders.sql", """
            {{ config(materialized='incremental', partition_by='ordered_on') }}
            SELECT ordered_on, COUNT(*) AS orders, '{{ ds }}' AS built_for
            FROM {{ ref('stg_orders') }} WHERE ordered_on = {{ ds }} GROUP BY ordered_on
            """)
        try write("project/marts/schema.yml", """
            version: 2
            models:
              - name: revenue_by_tier
                config: { materialized: table }
                tests: [{ row_count: { min: 1, max: 10 } }]
                columns:
                  - name: tier
                    tests: [unique, not_null, { accepted_values: { values: [gold, silver] } }]
              - name: stg_orders
                columns:
                  - name: order_id
                    tests: [unique, not_null]
                  - name: customer_id
                    tests: [{ relationships: { to: "ref('customers')", field: customer_id } }]
            """)
        try write("project/tests/big_orders.sql", "-- severity: warn\nSELECT order_id, amount FROM {{ ref('stg_orders') }} WHERE amount > 100\n")
        try writeDrop(ds: "2024-01-01", rows: "1,1,10.5,2024-01-01\n1,1,10.5,2024-01-01\n2, 2,20,2024-01-01\n")
        try writeDrop(ds: "2024-01-02", rows: "1,1,10.5,2024-01-01\n2, 2,20,2024-01-01\n3,3,150,2024-01-02\n4,1,5,2024-01-02\n")
    }

    func run(ds: String, _ options: String = "") throws -> TransformContext {
        let context = try context(ds: ds)
        let json = #"{"project": "project", "target": "target""# + (options.isEmpty ? "" : ", \(options)") + "}"
        try ModelsRun.run(try TransformOptions(operation: "models.run", json: json), context)
        return context
    }

    func rows(_ sql: String) throws -> [[String?]] {
        let engine = try ModelsRun.openTarget("target", context: try context(ds: "2024-01-01"))
        return try engine.query(sql, [], limit: .max).rows
    }

    func testEveryMaterializationBuildsAndIncrementalKeepsOtherDays() throws {
        let first = try run(ds: "2024-01-01")
        XCTAssertEqual(try rows("SELECT order_id, customer_id FROM stg_orders ORDER BY order_id"), [["1", "1"], ["2", "2"]], "exact duplicate removed, ids cast")
        XCTAssertEqual(try rows("SELECT tier, orders FROM revenue_by_tier ORDER BY tier"), [["gold", "1"], ["silver", "1"]])
        XCTAssertEqual(try rows("SELECT ordered_on, orders, built_for FROM daily_orders"), [["2024-01-01", "2", "2024-01-01"]])
        let engine = try ModelsRun.openTarget("target", context: try context(ds: "2024-01-01"))
        XCTAssertNil(try engine.relationKind("int_orders_named"), "an ephemeral model is not built")
        XCTAssertEqual(try engine.relationKind("revenue_by_tier"), "table", "schema.yml's config applies")
        let models = try XCTUnwrap(resultModels(first))
        XCTAssertEqual(models["stg_orders"]?["rows"] as? Int, 2)
        XCTAssertEqual(models["int_orders_named"]?["status"] as? String, "ephemeral")
        XCTAssertEqual((models["revenue_by_tier"]?["tests"] as? [[String: Any]])?.count, 4)

        let second = try run(ds: "2024-01-02")
        XCTAssertEqual(try rows("SELECT ordered_on, orders, built_for FROM daily_orders ORDER BY ordered_on"),
                       [["2024-01-01", "2", "2024-01-01"], ["2024-01-02", "2", "2024-01-02"]], "the first day's partition stays")
        XCTAssertEqual(try rows("SELECT tier, orders FROM revenue_by_tier ORDER BY tier"), [["gold", "3"], ["silver", "1"]])
        let warning = try XCTUnwrap(second.results.problemList.first { $0["kind"] as? String == "model_test" })
        XCTAssertEqual(warning["severity"] as? String, "warning")
        let details = try XCTUnwrap(warning["details"] as? [String: Any])
        XCTAssertEqual(details["test"] as? String, "big_orders")
        XCTAssertEqual((details["rows"] as? [[Any]])?.map { $0.first as? String }, ["3"], "\(details)")

        // Running a day again replaces its own partition only.
        _ = try run(ds: "2024-01-02")
        XCTAssertEqual(try rows("SELECT COUNT(*) FROM daily_orders"), [["2"]])
    }

    func resultModels(_ context: TransformContext) throws -> [String: [String: Any]]? {
        let path = folder.file("result.json")
        try context.results.write(operation: "models.run", succeeded: true, to: path)
        let object = try JSONSerialization.jsonObject(with: try Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any]
        let list = object?["models"] as? [[String: Any]] ?? []
        return Dictionary(list.map { ($0["name"] as? String ?? "", $0) }, uniquingKeysWith: { a, _ in a })
    }

    func testASeedIsReloadedOnlyWhenItsFileChanges() throws {
        _ = try run(ds: "2024-01-01")
        let engine = try ModelsRun.openTarget("target", context: try context(ds: "2024-01-01"))
        try engine.execute("INSERT INTO customers (customer_id, name, tier) VALUES (9, 'Marker', 'gold')", [])
        _ = try run(ds: "2024-01-01")
        XCTAssertEqual(try rows("SELECT COUNT(*) FROM customers"), [["4"]], "an unchanged seed is not reloaded")
        try write("project/seeds/customers.csv", "customer_id,name,tier\n1,Ada,gold\n2,Bob,silver\n")
        _ = try run(ds: "2024-01-01")
        XCTAssertEqual(try rows("SELECT customer_id, name FROM customers ORDER BY customer_id"), [["1", "Ada"], ["2", "Bob"]])
    }

    func testAFailingErrorTestFailsTheTaskNamingModelTestAndRows() throws {
        try writeDrop(ds: "2024-01-03", rows: "5,7,1,2024-01-03\n6,8,2,2024-01-03\n")
        let context = try context(ds: "2024-01-03")
        XCTAssertThrowsError(try ModelsRun.run(try TransformOptions(operation: "models.run", json: #"{"project": "project", "target": "target"}"#), context)) { error in
            XCTAssertTrue("\(error)".contains("test relationships_stg_orders_customer_id__customers_customer_id"), "\(error)")
        }
        let problem = try XCTUnwrap(context.results.problemList.first { ($0["details"] as? [String: Any])?["test"] as? String == "relationships_stg_orders_customer_id__customers_customer_id" })
        XCTAssertEqual(problem["severity"] as? String, "error")
        let details = try XCTUnwrap(problem["details"] as? [String: Any])
        XCTAssertEqual(details["model"] as? String, "stg_orders")
        XCTAssertEqual(details["failing_rows"] as? Int, 2)
        XCTAssertEqual((details["rows"] as? [[Any]])?.count, 2)
    }

    func testSelectorsPickASubset() throws {
        let project = try ModelProject.load(folder: folder.file("project"), engine: "sqlite")
        XCTAssertEqual(try ModelGraph.select("stg_orders+", in: project.models), ["stg_orders", "int_orders_named", "revenue_by_tier", "daily_orders"])
        XCTAssertEqual(try ModelGraph.select("+revenue_by_tier", in: project.models), ["revenue_by_tier", "int_orders_named", "stg_orders"])
        XCTAssertEqual(try ModelGraph.select("path:staging", in: project.models), ["stg_orders"])
        XCTAssertEqual(try ModelGraph.select("marts", in: project.models), ["revenue_by_tier", "daily_orders"])
        XCTAssertThrowsError(try ModelGraph.select("nothing", in: project.models))
        let context = try run(ds: "2024-01-01", #""select": "staging""#)
        let models = try XCTUnwrap(resultModels(context))
        XCTAssertEqual(models["revenue_by_tier"]?["status"] as? String, "not_selected")
        XCTAssertEqual(models["stg_orders"]?["status"] as? String, "success")
    }

    func testACycleIsAnErrorNamingItsMembers() throws {
        try write("project/intermediate/a.sql", "SELECT * FROM {{ ref('b') }}")
        try write("project/intermediate/b.sql", "SELECT * FROM {{ ref('c') }}")
        try write("project/intermediate/c.sql", "SELECT * FROM {{ ref('a') }}")
        XCTAssertThrowsError(try ModelProject.load(folder: folder.file("project"), engine: "sqlite")) { error in
            XCTAssertEqual("\(error)", "models.run: models ref each other in a cycle: a -> b -> c -> a")
        }
    }

    func testIncrementalRowsOutsideTheIntervalFailAndWriteNothing() throws {
        _ = try run(ds: "2024-01-01")
        try write("project/marts/daily_orders.sql", """
            -- materialized: incremental
            -- partition_by: ordered_on
            SELECT ordered_on, COUNT(*) AS orders, '{{ ds }}' AS built_for FROM {{ ref('stg_orders') }} GROUP BY ordered_on
            """)
        let context = try context(ds: "2024-01-02")
        XCTAssertThrowsError(try ModelsRun.run(try TransformOptions(operation: "models.run", json: #"{"project": "project", "target": "target"}"#), context)) { error in
            XCTAssertTrue("\(error)".contains("model daily_orders"), "\(error)")
        }
        let message = context.results.problemList.first { $0["kind"] as? String == "model_error" }?["message"] as? String ?? ""
        XCTAssertTrue(message.contains("1 row(s) have ordered_on outside the run's interval [2024-01-02T00:00:00Z, 2024-01-03T00:00:00Z) (e.g. 2024-01-01)"), message)
        XCTAssertEqual(try rows("SELECT ordered_on, orders FROM daily_orders"), [["2024-01-01", "2"]], "the previous rows stay")
    }

    /// A timestamp partition is judged as an instant, whatever its text form: a space-separated value of the run's
    /// first day is inside, one of the next day (which a space would sort before the end's `T`) is outside.
    func testTimestampPartitionValuesAreJudgedAsInstantsWhateverTheirTextForm() throws {
        _ = try run(ds: "2024-01-01")
        try write("project/marts/events_at.sql", "-- materialized: incremental\n-- partition_by: at\nSELECT '2024-01-02 05:00:00' AS at, 1 AS n")
        _ = try run(ds: "2024-01-02")
        XCTAssertEqual(try rows("SELECT at, n FROM events_at"), [["2024-01-02 05:00:00", "1"]])
        for late in ["2024-01-03 05:00:00", "2024-01-03T00:00:00", "2024-01-03T00:00:00.5Z"] {
            try write("project/marts/events_at.sql", "-- materialized: incremental\n-- partition_by: at\nSELECT '\(late)' AS at, 2 AS n")
            let context = try context(ds: "2024-01-02")
            XCTAssertThrowsError(try ModelsRun.run(try TransformOptions(operation: "models.run", json: #"{"project": "project", "target": "target"}"#), context), late)
            XCTAssertEqual(try rows("SELECT at, n FROM events_at"), [["2024-01-02 05:00:00", "1"]], "nothing written for \(late)")
        }
    }

    /// `export`: the lake's gold partition of the run holds exactly the run's rows (an incremental model's
    /// interval, a table's all), in gold.sql's format; a model that fails exports nothing.
    func testExportPublishesTheRunsRowsToTheLakeAndAFailedModelNothing() throws {
        let export = #""export": ["daily_orders", "revenue_by_tier"]"#
        guard try ModelsRun.openTarget("target", context: try context(ds: "2024-01-01")).engine == "sqlite" else {
            XCTAssertThrowsError(try run(ds: "2024-01-01", export)) { error in
                XCTAssertTrue("\(error)".contains("option 'export' needs a SQLite target"), "\(error)")
            }
            return
        }
        func lines(_ table: String, _ ds: String) throws -> [String] {
            let text = try String(contentsOfFile: folder.file("lake/gold/\(table)/ds=\(ds)/data.csv"), encoding: .utf8)
            let all = text.split(separator: "\n").map(String.init)
            return [all.first ?? ""] + all.dropFirst().sorted()
        }
        func schema(_ table: String, _ ds: String) throws -> [String: Any] {
            try JSONFile.read(folder.file("lake/gold/\(table)/ds=\(ds)/_schema.json"))
        }
        _ = try run(ds: "2024-01-01", export)
        _ = try run(ds: "2024-01-02", export)
        XCTAssertEqual(try lines("daily_orders", "2024-01-01"), ["ordered_on,orders,built_for", "2024-01-01,2,2024-01-01"])
        XCTAssertEqual(try lines("daily_orders", "2024-01-02"), ["ordered_on,orders,built_for", "2024-01-02,2,2024-01-02"],
                       "the interval's rows only, though the table holds both days")
        XCTAssertEqual(try schema("daily_orders", "2024-01-02")["materialized"] as? String, "partition")
        XCTAssertEqual((try schema("daily_orders", "2024-01-02")["columns"] as? [[String: String]])?.map { $0["type"] ?? "" }, ["text", "integer", "text"])
        XCTAssertEqual(try lines("revenue_by_tier", "2024-01-02"), ["tier,revenue,orders", "gold,165.5,3", "silver,20.0,1"])
        XCTAssertEqual(try schema("revenue_by_tier", "2024-01-02")["materialized"] as? String, "full")
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder.file("lake/gold/stg_orders")), "a model not in export stays in the target")

        // A failing incremental model exports nothing; the other exported model still does.
        try writeDrop(ds: "2024-01-03", rows: "5,2,7,2024-01-02\n")
        try write("project/marts/daily_orders.sql", """
            {{ config(materialized='incremental', partition_by='ordered_on') }}
            SELECT ordered_on, COUNT(*) AS orders, '{{ ds }}' AS built_for FROM {{ ref('stg_orders') }} GROUP BY ordered_on
            """)
        XCTAssertThrowsError(try run(ds: "2024-01-03", export))
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder.file("lake/gold/daily_orders/ds=2024-01-03")))
        XCTAssertEqual(try lines("revenue_by_tier", "2024-01-03"), ["tier,revenue,orders", "silver,7.0,1"])

        // A model whose error test fails is not exported either; the model beside it is.
        try writeDrop(ds: "2024-01-04", rows: "6,2,3,2024-01-04\n")
        try write("project/tests/no_silver_revenue.sql", "SELECT tier FROM {{ ref('revenue_by_tier') }} WHERE tier = 'silver'\n")
        XCTAssertThrowsError(try run(ds: "2024-01-04", export)) { error in
            XCTAssertTrue("\(error)".contains("test no_silver_revenue"), "\(error)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder.file("lake/gold/revenue_by_tier/ds=2024-01-04")))
        XCTAssertEqual(try lines("daily_orders", "2024-01-04"), ["ordered_on,orders,built_for", "2024-01-04,1,2024-01-04"])

        XCTAssertThrowsError(try run(ds: "2024-01-02", #""export": ["int_orders_named"]"#)) { error in
            XCTAssertTrue("\(error)".contains("an ephemeral model, which is never built"), "\(error)")
        }
        XCTAssertThrowsError(try run(ds: "2024-01-02", #""export": ["nope"]"#)) { error in
            XCTAssertTrue("\(error)".contains("names nope, which is not a model"), "\(error)")
        }
    }

    func testTemplatesAreBoundOrQuotedNeverSpliced() throws {
        let project = try ModelProject.load(folder: folder.file("project"), engine: "sqlite")
        let compiler = ModelCompiler(project: project, placeholder: { "?\($0)" }, values: ["ds": "2024-01-01", "data_interval_start": "a", "data_interval_end": "b"])
        let table = try compiler.compile("SELECT {{ ds }} AS d, '{{ ds }}x' AS e FROM {{ ref('int_orders_named') }}", where: "m", literals: false)
        XCTAssertEqual(table.parameters, ["2024-01-01"])
        XCTAssertTrue(table.sql.hasPrefix("WITH \"int_orders_named\" AS ("), table.sql)
        XCTAssertTrue(table.sql.hasSuffix("SELECT ?1 AS d, (?1 || 'x') AS e FROM \"int_orders_named\""), table.sql)
        let view = try compiler.compile("WITH x AS (SELECT 1) SELECT '{{ ds }}' FROM x", where: "m", literals: true)
        XCTAssertEqual(view.sql, "WITH x AS (SELECT 1) SELECT '2024-01-01' FROM x")
        XCTAssertEqual(ModelCompiler.prepend(["e AS (SELECT 1)"], to: "-- c\nwith x AS (SELECT 2) SELECT * FROM x, e"),
                       "-- c\nwith e AS (SELECT 1),\n x AS (SELECT 2) SELECT * FROM x, e")
    }
}

/// A broken project is one clear error naming the file (and line, for YAML) before anything is built.
final class ModelProjectErrorTests: XCTestCase {
    func load(_ files: [String: String]) throws -> ModelProject {
        let folder = try TemporaryDirectory()
        for (name, text) in files {
            try FileManager.default.createDirectory(atPath: (folder.file("p/\(name)") as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try folder.write("p/\(name)", text)
        }
        return try ModelProject.load(folder: folder.file("p"), engine: "sqlite")
    }

    func message(_ files: [String: String]) -> String {
        do { _ = try load(files); return "no error" } catch { return "\(error)" }
    }

    func testEachMistakeIsNamed() {
        XCTAssertTrue(message(["staging/a.sql": "-- materialized: incremental\nSELECT 1 AS d"]).hasSuffix("staging/a.sql: an incremental model needs partition_by (the column whose interval a run replaces)"))
        XCTAssertTrue(message(["staging/a.sql": "{{ config(materialized='tabel') }}\nSELECT 1"]).contains("materialized 'tabel' is not one of view, table, incremental, ephemeral"))
        XCTAssertTrue(message(["staging/a.sql": "{{ config(materialised='table') }}\nSELECT 1"]).contains("config key 'materialised' is unknown"))
        XCTAssertTrue(message(["staging/a.sql": "SELECT * FROM {{ ref('b') }}"]).contains("staging/a.sql: ref('b') names no model or seed"))
        XCTAssertTrue(message(["staging/a.sql": "SELECT * FROM {{ source('x') }}"]).contains("must be source('name', 'table')"))
        XCTAssertTrue(message(["staging/a.sql": "SELECT * FROM {{ source('seeds', 'nope') }}"]).contains("source('seeds', 'nope') names no seed"))
        XCTAssertTrue(message(["staging/shop_orders.sql": "SELECT * FROM {{ source('shop', 'orders') }}"]).contains("which model shop_orders would overwrite"))
        XCTAssertTrue(message(["staging/a.postgres.sql": "SELECT 1"]).contains("model a has only staging/a.postgres.sql, no a.sql or a.sqlite.sql for sqlite"))
        XCTAssertTrue(message(["staging/a.sql": "SELECT 1", "marts/a.sql": "SELECT 2"]).contains("model a is defined twice"))
        let unknownTest = message(["staging/a.sql": "SELECT 1", "staging/schema.yml": "models:\n  - name: a\n    columns:\n      - name: x\n        tests: [uniq]\n"])
        XCTAssertTrue(unknownTest.contains("schema.yml:5: models[0].columns[0].tests[0]: unknown test 'uniq'"), unknownTest)
        XCTAssertTrue(message(["staging/a.sql": "SELECT 1", "staging/schema.yml": "models:\n  - name: a\n    tests: [unique]\n"]).contains("unique is a column test: put it under a column"))
        XCTAssertTrue(message(["staging/a.sql": "SELECT 1", "staging/schema.yml": "models:\n  - name: b\n    tests: [{ row_count: { min: 1 } }]\n"]).contains("tests for model b, which does not exist"))
        XCTAssertTrue(message(["seeds/s.csv": "a,b\n1\n", "staging/a.sql": "SELECT * FROM {{ ref('s') }}"]).hasSuffix("no error"), "a seed's rows are read when it loads")
        XCTAssertTrue(message([:]).contains("does not exist") || message([:]).contains("no model in"), message([:]))
    }
}
