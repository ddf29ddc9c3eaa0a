import Foundation
import SQLiteDirect

/// `gold.sql`: SQL model files over silver tables, run in the SQLite engine, dbt-style.
/// Options: `models` (a folder of `.sql` files, relative to the DAG folder), `silver` (the silver tables the
/// models read, staged as `silver_<table>` with every partition up to `ds`), `database` (default
/// `$ORCHESTRATOR_HOME/work/<dag_id>.db`).
///
/// A model is `<name>.sql` holding one SELECT. `{{ ref('other') }}` names another model (and orders the runs),
/// `{{ ds }}`, `{{ data_interval_start }}` and `{{ data_interval_end }}` are bound parameters (`SQLTemplate`). A first-line comment
/// `-- materialized: partition` keeps one partition per ds (the SELECT returns that day's rows); the default,
/// `full`, rebuilds the table. Each model's result is also written to the lake as `gold/<name>/ds=<ds>/`.
public enum GoldSQL: TransformOperation {
    public static let name = "gold.sql"

    struct Model {
        let name: String
        let file: String
        let sql: String
        let partitioned: Bool
        /// A first-line `-- format: parquet` (or csv); nil leaves it to the task's option or the DAG's default.
        var format: LakeFormat?
        let dependencies: [String]
        /// Lines of the file before `sql` begins (blank lines trimmed), to turn a line of the SQL into one of the file.
        var leadingLines = 0
    }

    /// The engines a model file may be written for: `<model>.<engine>.sql` beside `<model>.sql` replaces it there.
    static let engines = ["sqlite", "duckdb"]

    public static func run(_ options: TransformOptions, _ context: TransformContext) throws(TransformError) {
        try options.allowOnly(["models", "silver", "database", "format"])
        let folder = context.resolve(try options.string("models"))
        let silver = try options.strings("silver")
        let location = try WarehouseLocation.work(option: try options.optionalString("database"), context: context)
        let formatOption = try options.optionalString("format")
        func resolved(_ models: [Model]) throws(TransformError) -> [Model] {
            var models = models
            for index in models.indices {
                models[index].format = try LakeFormat.resolve(table: models[index].format, option: formatOption, operation: name)
            }
            return models
        }
        if case .duckdb(let path) = location {
            let models = try resolved(try order(try loadModels(folder: folder, engine: "duckdb", placeholder: DuckDBDatabase.placeholder)))
            return try runOnDuckDB(models, silver: silver, path: path, context: context)
        }
        let models = try resolved(try order(try loadModels(folder: folder, engine: "sqlite")))
        let db = try TableLoader.openDatabase(location.path)

        let arguments = try SQLTemplate.arguments(context)
        var silverRowsToday: [String: Int] = [:]
        for table in silver {
            try Naming.check(table, what: "silver table", operation: name)
            let (loaded, rowsToday) = try stageSilver(table, db: db, context: context)
            silverRowsToday[table] = rowsToday
            context.log("gold.sql: staged silver_\(table) (\(loaded))")
        }
        let inputs = silverInputs(models, staged: silver)
        for model in models {
            let started = Date()
            try sqlite("gold.sql: model \(model.name) (\(model.file))") { () throws(SQLiteError) in
                try db.transaction { () throws(SQLiteError) in
                    let quoted = TableLoader.quote(model.name)
                    if model.partitioned {
                        let select = "SELECT CAST(:ds AS TEXT) AS ds, * FROM (\(model.sql))"
                        try db.run("CREATE TABLE IF NOT EXISTS \(quoted) AS \(select) LIMIT 0", named: arguments)
                        try db.run("DELETE FROM \(quoted) WHERE ds = ?", [.text(context.ds)])
                        try db.run("INSERT INTO \(quoted) \(select)", named: arguments)
                    } else {
                        let next = TableLoader.quote("\(model.name)__next")
                        try db.execute("DROP TABLE IF EXISTS \(next)")
                        try db.run("CREATE TABLE \(next) AS \(model.sql)", named: arguments)
                        try db.execute("DROP TABLE IF EXISTS \(quoted)")
                        try db.execute("ALTER TABLE \(next) RENAME TO \(quoted)")
                    }
                }
            }
            let exported = try export(model, db: db, context: context)
            report(model, exported: exported, started: started, inputs: inputs, silverRowsToday: silverRowsToday, context: context)
        }
    }

    /// Logs a model's result and flags an empty day whose own silver inputs had rows.
    static func report(_ model: Model, exported: Int, started: Date?, inputs: [String: [String]], silverRowsToday: [String: Int],
                       context: TransformContext) {
        let target = "gold/\(model.name)" + (model.partitioned ? "/ds=\(context.ds)" : "")
        context.results.output(target, rows: exported)
        context.log("gold.sql: \(model.name) (\(model.partitioned ? "partition ds=\(context.ds)" : "full")) → \(exported) rows" + (started.map { " in \(String(format: "%.2f", Date().timeIntervalSince($0)))s" } ?? ""))
        let modelInputs = inputs[model.name] ?? []
        let inputRowsToday = modelInputs.reduce(0) { $0 + (silverRowsToday[$1] ?? 0) }
        if exported == 0 && inputRowsToday > 0 {
            // Reported, not failed: an empty day can be right; `row_count` quality tests decide.
            let tables = modelInputs.map { "silver_\($0)" }.joined(separator: ", ")
            let message = "gold.sql: model \(model.name) wrote 0 rows for ds=\(context.ds) although its silver input (\(tables)) has \(inputRowsToday) rows that day"
            context.log("WARNING " + message)
            context.results.problem("empty_gold", severity: "warning", message: message,
                                    details: ["model": model.name, "ds": context.ds, "silver_rows": inputRowsToday,
                                              "silver_tables": modelInputs])
        }
    }

    /// The models of `folder` for `engine`: `<name>.sql`, or `<name>.<engine>.sql` where the engine's SQL must
    /// differ (a variant for another engine is ignored). `placeholder` is how the engine reads a parameter.
    static func loadModels(folder: String, engine: String, placeholder: (String) -> String = { ":" + $0 }) throws(TransformError) -> [Model] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder) else {
            throw TransformError("\(name): models folder \(folder) does not exist")
        }
        var generic: [String: String] = [:], variants: [String: String] = [:], otherEngines: [String: String] = [:]
        for file in names.filter({ $0.hasSuffix(".sql") }) {
            let stem = String(file.dropLast(4))
            let parts = stem.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            if parts.count == 2, engines.contains(parts[1]) {
                try Naming.check(parts[0], what: "model (file \(file))", operation: name)
                if parts[1] == engine { variants[parts[0]] = file } else { otherEngines[parts[0]] = file }
            } else {
                try Naming.check(stem, what: "model (file \(file))", operation: name)
                generic[stem] = file
            }
        }
        for (model, file) in otherEngines where generic[model] == nil && variants[model] == nil {
            throw TransformError("\(name): model \(model) has only \(file), no \(model).sql or \(model).\(engine).sql for the \(engine) work database (\(folder))")
        }
        var models: [Model] = []
        for modelName in Set(generic.keys).union(variants.keys).sorted() {
            guard let file = variants[modelName] ?? generic[modelName] else { continue }
            let path = "\(folder)/\(file)"
            guard var sql = try? String(contentsOfFile: path, encoding: .utf8) else { throw TransformError("cannot read \(path)") }
            let header = sql.split(separator: "\n").prefix(5).map { $0.replacingOccurrences(of: " ", with: "").lowercased() }
            let partitioned = header.contains("--materialized:partition")
            var format: LakeFormat?
            if let line = header.first(where: { $0.hasPrefix("--format:") }) {
                format = try LakeFormat.parse(String(line.dropFirst("--format:".count)), where: "\(path): -- format")
            }
            let template = try SQLTemplate(sql, where: path, allowReferences: true, placeholder: placeholder)
            sql = template.sql
            let dependencies = template.references
            let leading = sql.prefix { $0.isWhitespace }.filter { $0 == "\n" || $0 == "\r\n" }.count
            sql = sql.trimmingCharacters(in: .whitespacesAndNewlines)
            while sql.hasSuffix(";") { sql.removeLast() }
            models.append(Model(name: modelName, file: path, sql: sql, partitioned: partitioned, format: format,
                                dependencies: dependencies, leadingLines: leading))
        }
        guard !models.isEmpty else { throw TransformError("\(name): no .sql model in \(folder)") }
        return models
    }

    /// The staged silver tables each model reads: `silver_<table>` named in its SQL (as a whole identifier, in
    /// any case), and those of the models it references. `models` is in dependency order.
    static func silverInputs(_ models: [Model], staged: [String]) -> [String: [String]] {
        var inputs: [String: [String]] = [:]
        for model in models {
            let words = Set(model.sql.lowercased().split { !($0.isLetter || $0.isNumber || $0 == "_") }.map(String.init))
            var tables = Set(staged.filter { words.contains("silver_\($0.lowercased())") })
            for dependency in model.dependencies { tables.formUnion(inputs[dependency] ?? []) }
            inputs[model.name] = staged.filter(tables.contains)
        }
        return inputs
    }

    /// Models after the models they reference; a cycle is an error naming it.
    static func order(_ models: [Model]) throws(TransformError) -> [Model] {
        let byName = Dictionary(uniqueKeysWithValues: models.map { ($0.name, $0) })
        var ordered: [Model] = []
        var state: [String: Int] = [:]  // 1 visiting, 2 done
        func visit(_ model: Model, path: [String]) throws(TransformError) {
            if state[model.name] == 2 { return }
            if state[model.name] == 1 {
                throw TransformError("\(name): models reference each other in a cycle: \((path + [model.name]).joined(separator: " -> "))")
            }
            state[model.name] = 1
            for dependency in model.dependencies {
                guard let target = byName[dependency] else {
                    throw TransformError("\(model.file): ref('\(dependency)') names no model (models: \(models.map(\.name).joined(separator: ", ")))")
                }
                try visit(target, path: path + [model.name])
            }
            state[model.name] = 2
            ordered.append(model)
        }
        for model in models { try visit(model, path: []) }
        return ordered
    }

    /// Loads every silver partition up to `ds` that the work database lacks, and always the current one; returns
    /// a summary and the current partition's row count.
    static func stageSilver(_ table: String, db: SQLiteDatabase, context: TransformContext) throws(TransformError) -> (String, Int) {
        let target = "silver_\(table)"
        let partitions = try context.lake.partitions(of: "silver/\(table)").filter { $0.ds <= context.ds }
        guard partitions.contains(where: { $0.ds == context.ds }) else {
            throw TransformError("\(name): silver/\(table)/ds=\(context.ds) does not exist in the lake; run silver.clean first")
        }
        let present = try sqlite("reading \(target)") { () throws(SQLiteError) -> Set<String> in
            guard try !TableLoader.existingColumns(db, table: target).isEmpty else { return [] }
            let statement = try db.prepare("SELECT DISTINCT ds FROM \(TableLoader.quote(target))")
            var values: Set<String> = []
            while try statement.step() { if let ds = statement.text(0) { values.insert(ds) } }
            return values
        }
        var rows = 0
        var rowsToday = 0
        var loadedPartitions = 0
        for partition in partitions {
            let ds = partition.ds
            guard ds == context.ds || !present.contains(ds) else { continue }
            let content = try context.lake.content(of: partition)
            guard let (data, format) = LakeFormat.dataFile(in: content) else { continue }
            let schema = try context.lake.localPath(of: "_schema.json", in: content)
            var csv = try context.lake.localPath(of: data)
            // A Parquet day is staged from its CSV copy in silver's text forms: the same rows as a CSV day.
            let copy = format == .parquet
                ? try ParquetFiles.silverTextCopy(of: csv, schema: schema, scratch: ParquetFiles.scratchFolder(home: context.home),
                                                  what: "\(name): reading \(data.displayPath)")
                : nil
            defer { if let copy { unlink(copy) } }
            if let copy { csv = copy }
            let columns = try TableLoader.columns(schema: schema, csv: csv)
            let loaded = try sqlite("staging \(partition)") { () throws(SQLiteError) -> Int in
                try db.transaction { () throws(SQLiteError) -> Int in
                    try TableLoader.ensureTable(db, table: target, columns: columns, partitioned: true)
                    try db.run("DELETE FROM \(TableLoader.quote(target)) WHERE ds = ?", [.text(ds)])
                    do {
                        return try TableLoader.insert(db, table: target, csv: csv, columns: columns, ds: ds)
                    } catch {
                        throw SQLiteError("\(error)")
                    }
                }
            }
            rows += loaded
            if ds == context.ds { rowsToday = loaded }
            loadedPartitions += 1
        }
        return ("\(loadedPartitions) partition\(loadedPartitions == 1 ? "" : "s"), \(rows) rows loaded", rowsToday)
    }

    /// Writes the model's rows for this run to `gold/<model>/ds=<ds>/data.csv` with its schema.
    static func export(_ model: Model, db: SQLiteDatabase, context: TransformContext) throws(TransformError) -> Int {
        try GoldPartitionExport.publish(model.name, db: db, partitioned: model.partitioned,
                                        filter: model.partitioned ? ("ds = ?", [.text(context.ds)]) : nil, format: model.format ?? .csv,
                                        context: context)
    }
}
