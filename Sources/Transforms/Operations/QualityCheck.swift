import Foundation
import SQLiteDirect
import Yams

/// `quality.check`: dbt-style tests on warehouse tables. Options: `tests` (a YAML file, relative to the DAG
/// folder), `database` (`warehouse`, the default, or `work` for the gold work database).
///
/// ```yaml
/// tests:
///   - { table: daily_sales, unique: [date] }
///   - { table: fact_sales, not_null: [purchase_id, client_id] }
///   - { table: fact_sales, accepted_values: { column: country, values: [FR, DE] } }
///   - { table: fact_sales, relationships: { column: client_id, to: client_kpis, field: client_id } }
///   - { table: daily_sales, row_count: { min: 1 }, where: "date = '{{ ds }}'" }
///   - { name: no_negative_revenue, sql: "SELECT * FROM daily_sales WHERE revenue < 0", severity: warn }
/// ```
/// `{{ ds }}`, `{{ data_interval_start }}` and `{{ data_interval_end }}` in `where` and `sql` are bound parameters
/// (`SQLTemplate`). Each test selects its failing rows; any row fails it. A failing `error` test (the default) fails the task,
/// a `warn` test only logs. The log shows every test's result and up to 10 failing rows.
public enum QualityCheck: TransformOperation {
    public static let name = "quality.check"

    struct Test {
        let name: String
        let sql: String
        let warnOnly: Bool
    }

    static let fields = ["name", "table", "where", "severity", "unique", "not_null", "accepted_values", "relationships", "row_count", "sql"]

    public static func run(_ options: TransformOptions, _ context: TransformContext) throws(TransformError) {
        try options.allowOnly(["tests", "database"])
        let path = context.resolve(try options.string("tests"))
        let location: WarehouseLocation
        switch try options.optionalString("database") ?? "warehouse" {
        case "warehouse":
            guard context.warehouse.hasPrefix("sqlite://") || context.warehouse.hasPrefix("duckdb://") else {
                throw TransformError("\(name): the warehouse \(Connections.redacted(context.warehouse)) is neither SQLite nor DuckDB")
            }
            location = try WarehouseLocation.parse(context.warehouse, what: "\(name): the warehouse")
        case "work": location = try WarehouseLocation.work(option: nil, context: context)
        case let other: throw TransformError("\(name): option 'database' is '\(other)' (use warehouse or work)")
        }
        if case .duckdb(let databasePath) = location {
            let tests = try load(path: path, placeholder: DuckDBDatabase.placeholder)
            let failed = try runOnDuckDB(tests, path: databasePath, context: context)
            return try finish(tests: tests, failed: failed, context: context)
        }
        let databasePath = location.path
        let tests = try load(path: path)
        let arguments = try SQLTemplate.arguments(context)
        let db = try TableLoader.openDatabase(databasePath)
        var failed: [String] = []
        for test in tests {
            let (count, sample, columns) = try sqlite("\(name): test \(test.name)") { () throws(SQLiteError) -> (Int, [[String?]], [String]) in
                let statement = try db.prepareSingle("SELECT * FROM (\(test.sql))")
                try statement.bind(named: arguments)
                let columns = (0..<statement.columnCount).map { statement.columnName($0) }
                var sample: [[String?]] = []
                var count = 0
                while try statement.step() {
                    count += 1
                    if sample.count < 10 { sample.append((0..<statement.columnCount).map { statement.text($0) }) }
                }
                return (count, sample, columns)
            }
            if record(test, count: count, sample: sample, columns: columns, context: context) { failed.append(test.name) }
        }
        try finish(tests: tests, failed: failed, context: context)
    }

    /// Logs one test's result; true when it failed with error severity.
    static func record(_ test: Test, count: Int, sample: [[String?]], columns: [String], context: TransformContext) -> Bool {
        if count == 0 {
            context.results.check(test.name, outcome: "pass", failingRows: 0)
            context.log("quality.check: PASS \(test.name)")
            return false
        }
        context.results.check(test.name, outcome: test.warnOnly ? "warn" : "fail", failingRows: count)
        context.log("quality.check: \(test.warnOnly ? "WARN" : "FAIL") \(test.name): \(count) failing row\(count == 1 ? "" : "s")")
        context.log("    " + columns.joined(separator: " | "))
        for row in sample { context.log("    " + row.map { $0 ?? "NULL" }.joined(separator: " | ")) }
        return !test.warnOnly
    }

    static func finish(tests: [Test], failed: [String], context: TransformContext) throws(TransformError) {
        if !failed.isEmpty {
            throw TransformError("\(name): \(failed.count) of \(tests.count) tests failed: \(failed.joined(separator: ", "))")
        }
        context.log("quality.check: \(tests.count) tests, all passed or warned")
    }

    /// `placeholder`: how the engine reads a template parameter (SQLTemplate).
    static func load(path: String, placeholder: (String) -> String = { ":" + $0 }) throws(TransformError) -> [Test] {
        let file = try YAMLFile(path: path)
        let top = try file.map(file.root, "tests file", allowed: ["tests"])
        guard let list = top.first(where: { $0.key == "tests" })?.node else { throw file.fail(file.root, "tests", "is required") }
        var tests: [Test] = []
        for (index, node) in try file.list(list, "tests").enumerated() {
            let field = "tests[\(index)]"
            let entries = Dictionary(try file.map(node, field, allowed: fields).map { ($0.key, $0.node) }, uniquingKeysWith: { a, _ in a })
            func text(_ key: String) throws(TransformError) -> String? { try entries[key].map { (n: Node) throws(TransformError) -> String in try file.string(n, "\(field).\(key)") } }
            let severity = try text("severity") ?? "error"
            guard severity == "error" || severity == "warn" else { throw file.fail(node, "\(field).severity", "must be error or warn") }
            let table = try text("table")
            if let table { do { try Naming.check(table, what: "table", operation: name) } catch { throw file.fail(node, "\(field).table", error.description) } }
            let filter = try text("where").map { (text: String) throws(TransformError) -> String in
                "(\(try SQLTemplate(text, where: "\(file.path):\(node.mark?.line ?? 0): \(field).where", allowReferences: false, placeholder: placeholder).sql))"
            }
            func source() throws(TransformError) -> String {
                guard let table else { throw file.fail(node, "\(field).table", "is required for this test") }
                return "SELECT * FROM \(TableLoader.quote(table))" + (filter.map { " WHERE \($0)" } ?? "")
            }
            func column(_ name: String, _ key: String) throws(TransformError) -> String {
                do { try Naming.check(name, what: "column", operation: QualityCheck.name) } catch { throw file.fail(node, "\(field).\(key)", error.description) }
                return TableLoader.quote(name)
            }
            var made: [(String, String)] = []  // (description, failing-rows SQL)
            if let unique = entries["unique"] {
                let columns = try file.strings(unique, "\(field).unique")
                var quoted: [String] = []
                for name in columns { quoted.append(try column(name, "unique")) }
                let list = quoted.joined(separator: ", ")
                made.append(("unique(\(columns.joined(separator: ", ")))",
                             "SELECT \(list), COUNT(*) AS occurrences FROM (\(try source())) GROUP BY \(list) HAVING COUNT(*) > 1"))
            }
            if let notNull = entries["not_null"] {
                for name in try file.strings(notNull, "\(field).not_null") {
                    made.append(("not_null(\(name))", "SELECT * FROM (\(try source())) WHERE \(try column(name, "not_null")) IS NULL"))
                }
            }
            if let accepted = entries["accepted_values"] {
                let spec = Dictionary(try file.map(accepted, "\(field).accepted_values", allowed: ["column", "values"]).map { ($0.key, $0.node) }, uniquingKeysWith: { a, _ in a })
                guard let columnNode = spec["column"], let valuesNode = spec["values"] else {
                    throw file.fail(accepted, "\(field).accepted_values", "needs column and values")
                }
                let name = try file.string(columnNode, "\(field).accepted_values.column")
                let values = try file.strings(valuesNode, "\(field).accepted_values.values")
                let list = values.map { "'\($0.replacingOccurrences(of: "'", with: "''"))'" }.joined(separator: ", ")
                let quoted = try column(name, "accepted_values.column")
                made.append(("accepted_values(\(name))", "SELECT * FROM (\(try source())) WHERE \(quoted) IS NOT NULL AND \(quoted) NOT IN (\(list))"))
            }
            if let relationships = entries["relationships"] {
                let spec = Dictionary(try file.map(relationships, "\(field).relationships", allowed: ["column", "to", "field"]).map { ($0.key, $0.node) }, uniquingKeysWith: { a, _ in a })
                guard let columnNode = spec["column"], let toNode = spec["to"], let targetNode = spec["field"] else {
                    throw file.fail(relationships, "\(field).relationships", "needs column, to and field")
                }
                let name = try file.string(columnNode, "\(field).relationships.column")
                let target = try file.string(toNode, "\(field).relationships.to")
                let targetField = try file.string(targetNode, "\(field).relationships.field")
                let quoted = try column(name, "relationships.column")
                made.append(("relationships(\(name) → \(target).\(targetField))", """
                    SELECT * FROM (\(try source())) WHERE \(quoted) IS NOT NULL AND \(quoted) NOT IN \
                    (SELECT \(try column(targetField, "relationships.field")) FROM \(try column(target, "relationships.to")))
                    """))
            }
            if let rowCount = entries["row_count"] {
                let spec = Dictionary(try file.map(rowCount, "\(field).row_count", allowed: ["min", "max"]).map { ($0.key, $0.node) }, uniquingKeysWith: { a, _ in a })
                let minimum = try spec["min"].map { (n: Node) throws(TransformError) -> Int in try file.int(n, "\(field).row_count.min") }
                let maximum = try spec["max"].map { (n: Node) throws(TransformError) -> Int in try file.int(n, "\(field).row_count.max") }
                var conditions: [String] = []
                if let minimum { conditions.append("row_count < \(minimum)") }
                if let maximum { conditions.append("row_count > \(maximum)") }
                guard !conditions.isEmpty else { throw file.fail(rowCount, "\(field).row_count", "needs min or max") }
                made.append(("row_count(\(minimum.map { "min \($0)" } ?? "")\(minimum != nil && maximum != nil ? ", " : "")\(maximum.map { "max \($0)" } ?? ""))",
                             "SELECT row_count FROM (SELECT COUNT(*) AS row_count FROM (\(try source()))) WHERE \(conditions.joined(separator: " OR "))"))
            }
            if let custom = try text("sql") {
                let sql = try SQLTemplate(custom, where: "\(file.path):\(node.mark?.line ?? 0): \(field).sql", allowReferences: false,
                                          placeholder: placeholder).sql
                made.append(("sql", sql.trimmingCharacters(in: CharacterSet(charactersIn: "; \n"))))
            }
            guard !made.isEmpty else {
                throw file.fail(node, field, "has no test (unique, not_null, accepted_values, relationships, row_count or sql)")
            }
            let label = try text("name")
            for (description, sql) in made {
                let name = label ?? [table, description].compactMap { $0 }.joined(separator: ".")
                tests.append(Test(name: name, sql: sql, warnOnly: severity == "warn"))
            }
        }
        return tests
    }
}
