import Foundation

/// gold.sql on a DuckDB work database (`work/<dag_id>.duckdb`, when the warehouse is DuckDB): the same steps as
/// on SQLite (silver partitions staged as `silver_<table>`, each model in its own transaction, its rows exported
/// to the lake), run as one script in one DuckDB process after a look at what the work database holds. DuckDB
/// reads the lake's CSV files itself (`read_csv` with the declared columns) and writes the gold CSV with `COPY`,
/// so no row passes through this process.
extension GoldSQL {
    static func runOnDuckDB(_ models: [Model], silver: [String], path: String, context: TransformContext) throws(TransformError) {
        for table in silver { try Naming.check(table, what: "silver table", operation: name) }
        for model in models where !DuckDBDatabase.isSingleStatement(model.sql) {
            throw TransformError("gold.sql: model \(model.name) (\(model.file)) holds more than one statement (a model is one SELECT)")
        }
        let db = try DuckDBDatabase(path: path, log: context.log)
        defer { db.close() }
        let started = Date()
        var sections = DuckDBSections()
        sections.add(try DuckDBDatabase.variables(context))
        let stagedHow = try stageSilverOnDuckDB(silver, db: db, into: &sections, context: context)
        var staged: [(model: Model, staging: LakeStaging)] = []
        defer { for (_, staging) in staged { context.lake.discard(staging) } }
        for model in models {
            let staging = try context.lake.stage(try LakePartition(table: "gold/\(model.name)", ds: context.ds))
            staged.append((model, staging))
            addModel(model, exportingTo: staging.path((model.format ?? .csv).dataFile), to: &sections)
        }
        var results: [String: [[String?]]] = [:]
        var failure: TransformError?
        do {
            results = DuckDBSections.parse(try db.run(sections.script))
        } catch {
            // The models before the failing one are done (each in its own transaction): they are published.
            results = DuckDBSections.parse(error.output)
            failure = stepError(error, models: models, path: path)
        }
        var silverRowsToday: [String: Int] = [:]
        for row in (results["silver"] ?? []).dropFirst() where row.count == 2 {
            if let table = row[0], let count = row[1].flatMap({ Int($0) }) { silverRowsToday[table] = count }
        }
        if results["silver"] != nil {
            for table in silver {
                context.log("gold.sql: staged silver_\(table) (\(stagedHow[table] ?? "nothing staged"); \(silverRowsToday[table] ?? 0) rows on ds=\(context.ds))")
            }
        }
        let inputs = silverInputs(models, staged: silver)
        while let (model, staging) = staged.first.map({ ($0.model, $0.staging) }) {
            guard let result = results["model:\(model.name)"], !result.isEmpty else { break }
            let exported = try publish(model, result: result, staging: staging, context: context)
            staged.removeFirst()
            report(model, exported: exported, started: nil, inputs: inputs, silverRowsToday: silverRowsToday, context: context)
        }
        if let failure { throw failure }
        context.log("gold.sql: \(models.count) models on DuckDB in \(String(format: "%.2f", Date().timeIntervalSince(started)))s")
    }

    /// Adds the staging of the silver tables (step `silver`), in one transaction, then each table's row count for
    /// `ds`; returns, per table, how it was staged (for the log).
    ///
    /// A table whose partitions up to `ds` are all Parquet becomes a view over those files, read in place (no row
    /// is copied into the work database). Otherwise every partition the work database lacks, and always the current
    /// one, is loaded into a table (a Parquet day among CSV days included, read with `read_parquet`). Either way the
    /// columns have the types silver CSV gets (`silverColumnType`), so a model reads both alike.
    static func stageSilverOnDuckDB(_ tables: [String], db: DuckDBDatabase, into sections: inout DuckDBSections,
                                    context: TransformContext) throws(TransformError) -> [String: String] {
        let targets = tables.map { "silver_\($0)" }
        // What the work database holds already: its silver tables and views, then the tables' partitions (none to
        // ask about when the models read no silver: `IN ()` is no SQL).
        var existing: [String: String] = [:]
        if !targets.isEmpty {
            for row in try duckdb("gold.sql: reading \(db.path)", { () throws(DuckDBFailure) in
                try db.query("SELECT table_name, table_type FROM information_schema.tables WHERE table_schema = 'main' AND table_name IN (\(targets.map(DuckDBDatabase.literal).joined(separator: ", ")));\n").rows
            }) where row.count == 2 {
                if let name = row[0] { existing[name] = row[1] ?? "" }
            }
        }
        var present: [String: Set<String>] = [:]
        let held = targets.filter { existing[$0] == "BASE TABLE" }
        if !held.isEmpty {
            let union = held.map { "SELECT DISTINCT \(DuckDBDatabase.literal($0)) AS silver_table, ds FROM \(DuckDBDatabase.quote($0))" }
            for row in try duckdb("gold.sql: reading \(db.path)", { () throws(DuckDBFailure) in
                try db.query(union.joined(separator: "\nUNION ALL ") + ";\n").rows
            }) where row.count == 2 {
                if let table = row[0], let ds = row[1] { present[table, default: []].insert(ds) }
            }
        }
        var script = "BEGIN TRANSACTION;\n"
        var staging: [String: String] = [:]
        var staged: [String] = []
        for table in tables {
            let target = "silver_\(table)"
            let quoted = DuckDBDatabase.quote(target)
            let partitions = try context.lake.partitions(of: "silver/\(table)").filter { $0.ds <= context.ds }
            guard partitions.contains(where: { $0.ds == context.ds }) else {
                throw TransformError("\(name): silver/\(table)/ds=\(context.ds) does not exist in the lake; run silver.clean first")
            }
            var days: [SilverDay] = []
            for partition in partitions {
                let content = try context.lake.content(of: partition)
                guard let (file, format) = LakeFormat.dataFile(in: content) else { continue }
                let path = try context.lake.localPath(of: file)
                let schema = try context.lake.localPath(of: "_schema.json", in: content)
                let columns = format == .parquet
                    ? try parquetColumns(path, schema: schema, what: "gold.sql: reading \(file.displayPath)")
                    : try TableLoader.columns(schema: schema, csv: path).map { (name: $0.name, type: $0.type) }
                days.append(SilverDay(ds: partition.ds, path: path, format: format, columns: columns))
            }
            if !days.isEmpty && days.allSatisfy({ $0.format == .parquet }) {
                if existing[target] == "BASE TABLE" { script += "DROP TABLE \(quoted);\n" }
                let reads = days.map { "SELECT \(DuckDBDatabase.literal($0.ds)) AS ds, \($0.select) FROM \(DuckDBDatabase.readParquet($0.path))" }
                script += "CREATE OR REPLACE VIEW \(quoted) AS\n\(reads.joined(separator: "\nUNION ALL BY NAME\n"));\n"
                staging[table] = "a view over \(days.count) Parquet partition\(days.count == 1 ? "" : "s"), read in place"
                staged.append(table)
                continue
            }
            var created = existing[target] == "BASE TABLE"
            if existing[target] == "VIEW" { script += "DROP VIEW \(quoted);\n" }
            var loaded = 0
            for day in days where day.ds == context.ds || !(present[target]?.contains(day.ds) ?? false) {
                let columns = day.columns.map { (name: $0.name, type: DuckDBDatabase.silverColumnType($0.type)) }
                if !created {
                    let definitions = ["\"ds\" VARCHAR NOT NULL"] + columns.map { "\(DuckDBDatabase.quote($0.name)) \($0.type)" }
                    script += "CREATE TABLE \(quoted) (\(definitions.joined(separator: ", ")));\n"
                    created = true
                }
                for column in columns {
                    script += "ALTER TABLE \(quoted) ADD COLUMN IF NOT EXISTS \(DuckDBDatabase.quote(column.name)) \(column.type);\n"
                }
                let ds = DuckDBDatabase.literal(day.ds)
                let source = day.format == .parquet
                    ? "(SELECT \(day.select) FROM \(DuckDBDatabase.readParquet(day.path)))"
                    : DuckDBDatabase.readCSV(day.path, columns: columns)
                script += "DELETE FROM \(quoted) WHERE ds = \(ds);\n"
                script += "INSERT INTO \(quoted) BY NAME SELECT \(ds) AS ds, * FROM \(source);\n"
                loaded += 1
            }
            staging[table] = "\(loaded) partition\(loaded == 1 ? "" : "s") loaded"
            if created { staged.append(table) }
        }
        script += "COMMIT;\n"
        let today = DuckDBDatabase.literal(context.ds)
        let counts = staged.map { table in
            "SELECT \(DuckDBDatabase.literal(table)) AS silver_table, count(*) AS today FROM \(DuckDBDatabase.quote("silver_\(table)")) WHERE ds = \(today)"
        }
        sections.begin("silver")
        sections.add(script)
        if !counts.isEmpty { sections.add(counts.joined(separator: "\nUNION ALL ") + ";\n") }
        return staging
    }

    /// One silver partition as gold.sql stages it.
    struct SilverDay {
        let ds: String
        let path: String
        let format: LakeFormat
        /// Name and cleaning type (`_schema.json`) of each column.
        let columns: [(name: String, type: String)]

        /// The columns of a Parquet day in silver's forms.
        var select: String { columns.map { ParquetFiles.silverValue($0.name, type: $0.type) }.joined(separator: ", ") }
    }

    /// A Parquet partition's columns (from its footer) with the cleaning types its `_schema.json` declares.
    static func parquetColumns(_ path: String, schema: String?, what: String) throws(TransformError) -> [(name: String, type: String)] {
        let declared = try ParquetFiles.schemaTypes(schema)
        if let schema, let list = try JSONFile.read(schema)["columns"] as? [[String: Any]], !list.isEmpty {
            return list.compactMap { item in (item["name"] as? String).map { ($0, declared[$0] ?? "text") } }
        }
        return try ParquetFiles.columns(of: path, what: what).map { ($0.name, "text") }
    }

    /// One model (step `model:<name>`): its table replaced (or its `ds` partition) in one transaction, its rows
    /// for this run exported to `file` (CSV, or Parquet for a model whose format is parquet), then its columns and
    /// row count.
    static func addModel(_ model: Model, exportingTo file: String, to sections: inout DuckDBSections) {
        let quoted = DuckDBDatabase.quote(model.name)
        sections.begin("model:\(model.name)")
        // The model's SQL starts on the second line of each statement holding it, so DuckDB's `LINE n` is line
        // n - 1 of the SQL (see `stepError`).
        var script = "BEGIN TRANSACTION;\n"
        if model.partitioned {
            let select = "SELECT CAST(getvariable('ds') AS VARCHAR) AS ds, * FROM (\n\(model.sql)\n)"
            script += "CREATE TABLE IF NOT EXISTS \(quoted) AS \(select) LIMIT 0;\n"
            script += "DELETE FROM \(quoted) WHERE ds = getvariable('ds');\n"
            script += "INSERT INTO \(quoted) BY NAME \(select);\n"
        } else {
            script += "CREATE OR REPLACE TABLE \(quoted) AS\n\(model.sql)\n;\n"
        }
        script += "COMMIT;\n"
        let filter = model.partitioned ? " WHERE ds = getvariable('ds')" : ""
        let columns = model.partitioned ? "* EXCLUDE (ds)" : "*"
        let options = model.format == .parquet ? "FORMAT parquet, COMPRESSION zstd" : "FORMAT csv, HEADER true"
        script += "COPY (SELECT \(columns) FROM \(quoted)\(filter)) TO \(DuckDBDatabase.literal(file)) (\(options));\n"
        script += """
            SELECT column_name, data_type, (SELECT count(*) FROM \(quoted)\(filter)) AS row_count
            FROM information_schema.columns WHERE table_schema = 'main' AND table_name = \(DuckDBDatabase.literal(model.name))
            ORDER BY ordinal_position;

            """
        sections.add(script)
    }

    /// Writes the model's `_schema.json` beside its exported rows and publishes the partition; returns the rows.
    static func publish(_ model: Model, result: [[String?]], staging: LakeStaging, context: TransformContext) throws(TransformError) -> Int {
        let rows = result.dropFirst()
        let described = rows.compactMap { row -> (name: String, type: String)? in
            guard row.count == 3, let name = row[0], !(model.partitioned && name == "ds") else { return nil }
            return (name, DuckDBDatabase.schemaType(row[1] ?? ""))
        }
        let exported = rows.first.flatMap { $0.count == 3 ? $0[2].flatMap { Int($0) } : nil } ?? 0
        let schema: [String: Any] = [
            "columns": described.map { ["name": $0.name, "type": $0.type] },
            "materialized": model.partitioned ? "partition" : "full", "model": model.name, "ds": context.ds, "engine": "duckdb",
            "format": (model.format ?? .csv).rawValue,
        ]
        try JSONFile.write(schema, to: staging.path("_schema.json"))
        try context.lake.publish(staging)
        return exported
    }

    /// One line for a failed script: `gold.sql: model NAME (FILE:LINE): DuckDB's message (at: the SQL line)`, the
    /// file's line found from the statement's line when DuckDB gives one; or the staging step that failed.
    static func stepError(_ failure: DuckDBFailure, models: [Model], path: String) -> TransformError {
        let step = DuckDBSections.failedStep(failure) ?? ""
        guard step.hasPrefix("model:"), let model = models.first(where: { "model:\($0.name)" == step }) else {
            return TransformError("gold.sql: staging silver tables in \(path): \(failure)")
        }
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
