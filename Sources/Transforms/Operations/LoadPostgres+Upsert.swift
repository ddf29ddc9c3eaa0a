extension LoadPostgres {
    /// Upserts a gold CSV into an existing table, or replaces the partitions it holds, inside the caller's transaction:
    /// `COPY` into a temporary table shaped like the target (so values are cast on the way in), then one merge.
    /// Returns the rows staged.
    static func merge(_ connection: PostgresConnection, csv: String, columns: [TableLoader.Column], schema: String,
                      mode: LoadMode) throws(TransformError) -> Int {
        try mode.checkColumns(columns.map(\.name), operation: name)
        let target = "\(PostgresConnection.quote(schema)).\(PostgresConnection.quote(mode.table))"
        // pg_attribute rather than information_schema: one index lookup, not a view over the whole catalog.
        let existing = try connection.query(
            "SELECT attname FROM pg_attribute WHERE attrelid = to_regclass($1) AND attnum > 0 AND NOT attisdropped", [target])
            .compactMap { $0.first ?? nil }
        guard !existing.isEmpty else {
            throw TransformError("\(name): table \(schema).\(mode.table) does not exist; create it with sql.migrate (\(LoadMode.describe(mode.kind)) needs its key)")
        }
        let names = columns.map(\.name)
        for column in names where !existing.contains(column) {
            throw TransformError("\(name): table \(schema).\(mode.table) has no column \(column) (the gold table has it): add it with a migration")
        }
        let staged = PostgresConnection.quote("\(mode.table)__incoming")
        let list = names.map(PostgresConnection.quote).joined(separator: ", ")
        try connection.execute("DROP TABLE IF EXISTS pg_temp.\(staged)")
        try connection.execute("CREATE TEMP TABLE \(staged) (LIKE \(target) INCLUDING DEFAULTS) ON COMMIT DROP")
        try connection.copyIn("COPY \(staged) (\(list)) FROM STDIN WITH (FORMAT csv, HEADER true)", from: csv)
        for statement in mode.mergeStatements(target: target, table: PostgresConnection.quote(mode.table), staged: "pg_temp.\(staged)", columns: names,
                                              quote: PostgresConnection.quote, postgres: true) {
            try connection.execute(statement)
        }
        let count = try connection.query("SELECT COUNT(*) FROM pg_temp.\(staged)").first?.first.flatMap { $0 }.flatMap { Int($0) } ?? 0
        try connection.execute("DROP TABLE pg_temp.\(staged)")
        return count
    }
}
