/// The failing-rows queries of dbt's generic tests, written once for quality.check and models.run. `relation` is
/// a quoted table name or a parenthesised subquery; every derived table has an alias, as PostgreSQL requires.
/// Column and table names are checked plain names, quoted here; accepted values are quoted literals.
enum DataTestSQL {
    static func unique(_ relation: String, columns: [String]) -> String {
        let list = columns.map(TableLoader.quote).joined(separator: ", ")
        return "SELECT \(list), COUNT(*) AS occurrences FROM \(relation) AS tested GROUP BY \(list) HAVING COUNT(*) > 1"
    }

    static func notNull(_ relation: String, column: String) -> String {
        "SELECT * FROM \(relation) AS tested WHERE \(TableLoader.quote(column)) IS NULL"
    }

    static func acceptedValues(_ relation: String, column: String, values: [String]) -> String {
        let list = values.map(literal).joined(separator: ", ")
        let quoted = TableLoader.quote(column)
        return "SELECT * FROM \(relation) AS tested WHERE \(quoted) IS NOT NULL AND \(quoted) NOT IN (\(list))"
    }

    /// Rows whose `column` has no match in `target.field` (NULLs pass, as in dbt).
    static func relationships(_ relation: String, column: String, target: String, field: String) -> String {
        let quoted = TableLoader.quote(column)
        return "SELECT * FROM \(relation) AS tested WHERE \(quoted) IS NOT NULL AND \(quoted) NOT IN "
            + "(SELECT \(TableLoader.quote(field)) FROM \(target) AS parent WHERE \(TableLoader.quote(field)) IS NOT NULL)"
    }

    /// One row (the count) when the relation has fewer than `minimum` or more than `maximum` rows.
    static func rowCount(_ relation: String, minimum: Int?, maximum: Int?) -> String? {
        var conditions: [String] = []
        if let minimum { conditions.append("row_count < \(minimum)") }
        if let maximum { conditions.append("row_count > \(maximum)") }
        guard !conditions.isEmpty else { return nil }
        return "SELECT row_count FROM (SELECT COUNT(*) AS row_count FROM \(relation) AS tested) AS counted WHERE \(conditions.joined(separator: " OR "))"
    }

    static func literal(_ value: String) -> String { "'\(value.replacingOccurrences(of: "'", with: "''"))'" }
}
