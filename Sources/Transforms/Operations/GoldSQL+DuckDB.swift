import Foundation

/// gold.sql on a DuckDB work database (`work/<dag_id>.duckdb`, when the warehouse is DuckDB): the same steps as
/// on SQLite (silver partitions staged as `silver_<table>`, each model in its own transaction, its rows exported
/// to the lake), each step one script for the DuckDB CLI. DuckDB reads the lake's CSV files itself (`read_csv`
/// with the declared columns) and writes the gold CSV with `COPY`, so no row passes through this process.
extension GoldSQL {
    static func runOnDuckDB(_ models: [Model], silver: [String], path: String, context: TransformContext) throws(TransformError) {
        let db = try DuckDBDatabase(path: path, log: context.log)
        defer { db.close() }
        let variables = try DuckDBDatabase.variables(context)
        let silverRowsToday = try stageSilverOnDuckDB(silver, db: db, context: context)
        let inputs = silverInputs(models, staged: silver)
        for model in models {
            let started = Date()
            let exported = try runModelOnDuckDB(model, db: db, variables: variables, context: context)
            report(model, exported: exported, started: started, inputs: inputs, silverRowsToday: silverRowsToday, context: context)
        }
    }

    /// Loads every silver partition up to `ds` that the work database lacks, and always the current one, in one
    /// transaction; returns each table's row count for `ds`.
    static func stageSilverOnDuckDB(_ tables: [String], db: DuckDBDatabase, context: TransformContext) throws(TransformError) -> [String: Int] {
        var script = "BEGIN TRANSACTION;\n"
        var loadedPartitions: [String: Int] = [:]
        var staged: [String] = []
        for table in tables {
            try Naming.check(table, what: "silver table", operation: name)
            let target = "silver_\(table)"
            let quoted = DuckDBDatabase.quote(target)
            let partitions = try context.lake.partitions(of: "silver/\(table)").filter { $0.ds <= context.ds }
            guard partitions.contains(where: { $0.ds == context.ds }) else {
                throw TransformError("\(name): silver/\(table)/ds=\(context.ds) does not exist in the lake; run silver.clean first")
            }
            let exists = try duckdb("gold.sql: reading \(target) (\(db.path))") { () throws(DuckDBFailure) in try !db.columns(of: target).isEmpty }
            var present: Set<String> = []
            if exists {
                present = Set(try duckdb("gold.sql: reading \(target) (\(db.path))") { () throws(DuckDBFailure) in
                    try db.query("SELECT DISTINCT ds FROM \(quoted);\n").rows.compactMap { $0.first ?? nil }
                })
            }
            var created = exists
            for partition in partitions where partition.ds == context.ds || !present.contains(partition.ds) {
                let content = try context.lake.content(of: partition)
                guard let csv = try context.lake.localPath(of: "data.csv", in: content) else { continue }
                let columns = try TableLoader.columns(schema: try context.lake.localPath(of: "_schema.json", in: content), csv: csv)
                    .map { (name: $0.name, type: DuckDBDatabase.silverColumnType($0.type)) }
                if !created {
                    let definitions = ["\"ds\" VARCHAR NOT NULL"] + columns.map { "\(DuckDBDatabase.quote($0.name)) \($0.type)" }
                    script += "CREATE TABLE \(quoted) (\(definitions.joined(separator: ", ")));\n"
                    created = true
                }
                for column in columns {
                    script += "ALTER TABLE \(quoted) ADD COLUMN IF NOT EXISTS \(DuckDBDatabase.quote(column.name)) \(column.type);\n"
                }
                let ds = DuckDBDatabase.literal(partition.ds)
                script += "DELETE FROM \(quoted) WHERE ds = \(ds);\n"
                script += "INSERT INTO \(quoted) BY NAME SELECT \(ds) AS ds, * FROM \(DuckDBDatabase.readCSV(csv, columns: columns));\n"
                loadedPartitions[table, default: 0] += 1
            }
            if created { staged.append(table) }
        }
        script += "COMMIT;\n"
        let today = DuckDBDatabase.literal(context.ds)
        let counts = staged.map { table in
            "SELECT \(DuckDBDatabase.literal(table)) AS silver_table, count(*) AS today FROM \(DuckDBDatabase.quote("silver_\(table)")) WHERE ds = \(today)"
        }
        if !counts.isEmpty { script += counts.joined(separator: "\nUNION ALL ") + ";\n" }
        let rows = try duckdb("gold.sql: staging silver tables \(tables.joined(separator: ", ")) in \(db.path)") { () throws(DuckDBFailure) in
            try db.query(script).rows
        }
        var rowsToday: [String: Int] = [:]
        for row in rows where row.count == 2 {
            if let table = row[0], let count = row[1].flatMap({ Int($0) }) { rowsToday[table] = count }
        }
        for table in tables {
            let loaded = loadedPartitions[table] ?? 0
            context.log("gold.sql: staged silver_\(table) (\(loaded) partition\(loaded == 1 ? "" : "s") loaded; \(rowsToday[table] ?? 0) rows on ds=\(context.ds))")
        }
        return rowsToday
    }

    /// One model: its table replaced (or its `ds` partition) in one transaction, then its rows for this run
    /// exported to `gold/<model>/ds=<ds>/`; returns the rows exported.
    static func runModelOnDuckDB(_ model: Model, db: DuckDBDatabase, variables: String, context: TransformContext) throws(TransformError) -> Int {
        guard DuckDBDatabase.isSingleStatement(model.sql) else {
            throw TransformError("gold.sql: model \(model.name) (\(model.file)) holds more than one statement (a model is one SELECT)")
        }
        let quoted = DuckDBDatabase.quote(model.name)
        // The model's SQL starts on the second line of each statement holding it, so DuckDB's `LINE n` is line
        // n - 1 of the SQL (see `modelError`).
        var script = variables + "BEGIN TRANSACTION;\n"
        if model.partitioned {
            let select = "SELECT CAST(getvariable('ds') AS VARCHAR) AS ds, * FROM (\n\(model.sql)\n)"
            script += "CREATE TABLE IF NOT EXISTS \(quoted) AS \(select) LIMIT 0;\n"
            script += "DELETE FROM \(quoted) WHERE ds = getvariable('ds');\n"
            script += "INSERT INTO \(quoted) BY NAME \(select);\n"
        } else {
            script += "CREATE OR REPLACE TABLE \(quoted) AS\n\(model.sql)\n;\n"
        }
        script += "COMMIT;\n"
        let partition = try LakePartition(table: "gold/\(model.name)", ds: context.ds)
        let staging = try context.lake.stage(partition)
        do {
            let filter = model.partitioned ? " WHERE ds = getvariable('ds')" : ""
            let columns = model.partitioned ? "* EXCLUDE (ds)" : "*"
            script += "COPY (SELECT \(columns) FROM \(quoted)\(filter)) TO \(DuckDBDatabase.literal(staging.path("data.csv"))) (FORMAT csv, HEADER true);\n"
            script += """
                SELECT column_name, data_type, (SELECT count(*) FROM \(quoted)\(filter)) AS row_count
                FROM information_schema.columns WHERE table_schema = 'main' AND table_name = \(DuckDBDatabase.literal(model.name))
                ORDER BY ordinal_position;

                """
            let result: [[String?]]
            do {
                result = try db.query(script).rows
            } catch {
                throw modelError(model, error)
            }
            let described = result.compactMap { row -> (name: String, type: String)? in
                guard row.count == 3, let name = row[0], !(model.partitioned && name == "ds") else { return nil }
                return (name, DuckDBDatabase.schemaType(row[1] ?? ""))
            }
            let exported = result.first.flatMap { $0.count == 3 ? $0[2].flatMap { Int($0) } : nil } ?? 0
            let schema: [String: Any] = [
                "columns": described.map { ["name": $0.name, "type": $0.type] },
                "materialized": model.partitioned ? "partition" : "full", "model": model.name, "ds": context.ds,
                "engine": "duckdb",
            ]
            try JSONFile.write(schema, to: staging.path("_schema.json"))
            try context.lake.publish(staging)
            return exported
        } catch {
            context.lake.discard(staging)
            throw error as? TransformError ?? TransformError("\(error)")
        }
    }

    /// `gold.sql: model NAME (FILE:LINE): DuckDB's message (at: the SQL line)`: the file's line, when DuckDB
    /// points at one, found from the line of the statement.
    static func modelError(_ model: Model, _ failure: DuckDBFailure) -> TransformError {
        var location = model.file
        if let line = failure.statementLine, line >= 2 {
            location += ":\(line - 1 + model.leadingLines)"
        }
        return TransformError("gold.sql: model \(model.name) (\(location)): \(failure)")
    }
}

/// Runs DuckDB work, turning its failure into a TransformError with context.
func duckdb<T>(_ what: String, _ body: () throws(DuckDBFailure) -> T) throws(TransformError) -> T {
    do { return try body() } catch { throw TransformError("\(what): \(error.description)") }
}
