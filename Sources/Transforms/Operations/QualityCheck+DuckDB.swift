import Foundation

/// quality.check on a DuckDB database: one script per test, which counts the failing rows and returns the first
/// ten (the count rides on each sample row, so one result set answers both).
extension QualityCheck {
    static func runOnDuckDB(_ tests: [Test], path: String, context: TransformContext) throws(TransformError) -> [String] {
        let db = try DuckDBDatabase(path: path, log: context.log)
        defer { db.close() }
        let variables = try DuckDBDatabase.variables(context)
        let countColumn = "__orchestrator_failing_rows"
        var failed: [String] = []
        for test in tests {
            guard DuckDBDatabase.isSingleStatement(test.sql) else {
                throw TransformError("\(name): test \(test.name): its SQL holds more than one statement")
            }
            let script = variables + "WITH failing AS MATERIALIZED (\n\(test.sql)\n) SELECT (SELECT count(*) FROM failing) AS \(countColumn), * FROM failing LIMIT 10;\n"
            let result = try duckdb("\(name): test \(test.name)") { () throws(DuckDBFailure) in try db.query(script) }
            let count = result.rows.first.flatMap { $0.first ?? nil }.flatMap { Int($0) } ?? 0
            let sample = result.rows.map { Array($0.dropFirst()) }
            if record(test, count: count, sample: sample, columns: Array(result.columns.dropFirst()), context: context) {
                failed.append(test.name)
            }
        }
        return failed
    }
}
