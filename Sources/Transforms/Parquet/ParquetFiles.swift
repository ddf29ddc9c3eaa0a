import Foundation

/// Parquet files of the lake, written and read through DuckDB's CLI (one in-memory process per file: no database
/// file, so no lock). Writers produce CSV as before and convert it with an explicit typed column list, nothing
/// guessed; readers that need text (SQLite staging, silver.clean's foreign keys, load.postgres) get a CSV copy in
/// the forms silver CSV uses, so a day read from Parquet is the same rows as that day read from CSV.
enum ParquetFiles {
    /// Precision of silver decimals: DuckDB keeps DECIMAL(18, s) in 64 bits, and Parquet stores it as INT64.
    static let decimalPrecision = 18

    /// The DuckDB (and Parquet) type of a silver column: int BIGINT, decimal DECIMAL(18, scale) (DOUBLE without a
    /// scale), bool BOOLEAN, date DATE, timestamp TIMESTAMP WITH TIME ZONE (Parquet's isAdjustedToUTC), uuid UUID,
    /// string VARCHAR.
    static func silverType(_ type: String, scale: Int?) -> String {
        switch type.lowercased() {
        case "int", "integer": return "BIGINT"
        case "decimal": return scale.map { "DECIMAL(\(decimalPrecision), \(min(max($0, 0), decimalPrecision)))" } ?? "DOUBLE"
        case "real": return "DOUBLE"
        case "bool", "boolean": return "BOOLEAN"
        case "date": return "DATE"
        case "timestamp": return "TIMESTAMPTZ"
        case "uuid": return "UUID"
        default: return "VARCHAR"
        }
    }

    /// A silver column read back as the work databases see silver CSV: BIGINT, DOUBLE and BOOLEAN as such, dates,
    /// uuids and strings as VARCHAR, timestamps in silver's text form `YYYY-MM-DDTHH:MM:SSZ` (the scripts run in UTC).
    static func silverValue(_ name: String, type: String) -> String {
        let column = DuckDBDatabase.quote(name)
        switch type.lowercased() {
        case "timestamp": return "strftime(\(column), '%Y-%m-%dT%H:%M:%SZ') AS \(column)"
        default: return "CAST(\(column) AS \(DuckDBDatabase.silverColumnType(type))) AS \(column)"
        }
    }

    /// Runs a script in an in-memory DuckDB; a failure names `what`.
    @discardableResult
    static func run(_ script: String, what: String) throws(TransformError) -> String {
        let cli = DuckDBCLI(executable: try DuckDBCLI.locate(), database: ":memory:")
        return try duckdb(what) { () throws(DuckDBFailure) in try cli.run("SET TimeZone = 'UTC';\n" + script) }
    }

    /// Writes `csv` (header first, the columns in order) as a Parquet file with the given DuckDB types; returns
    /// its rows. A value the type refuses fails the write, with DuckDB's line and column. DuckDB keeps its
    /// default threads (one per core): on an idle 2-core machine two threads halve the conversion's wall time
    /// (0.92 → 0.46 s on 811,846 rows) for about 30 % more CPU, which one thread saves only when the cores are busy.
    @discardableResult
    static func write(csv: String, columns: [(name: String, type: String)], to parquet: String, what: String) throws(TransformError) -> Int {
        let source = DuckDBDatabase.readCSV(csv, columns: columns)
        let output = try run("""
            COPY (SELECT * FROM \(source)) TO \(DuckDBDatabase.literal(parquet)) (FORMAT parquet, COMPRESSION zstd);
            SELECT count(*) FROM \(DuckDBDatabase.readParquet(parquet));

            """, what: what)
        return DuckDBCSV.parse(output).dropFirst().first.flatMap { $0.first ?? nil }.flatMap { Int($0) } ?? 0
    }

    /// A CSV copy of a Parquet file (header first) at `csv`: `select` is the list of column expressions (default
    /// every column as written).
    static func csvCopy(of parquet: String, select: String = "*", to csv: String, what: String) throws(TransformError) {
        try run("COPY (SELECT \(select) FROM \(DuckDBDatabase.readParquet(parquet))) TO \(DuckDBDatabase.literal(csv)) (FORMAT csv, HEADER true);\n",
                what: what)
    }

    /// The column names of a Parquet file, in order (its schema, read from the footer).
    static func columns(of parquet: String, what: String) throws(TransformError) -> [(name: String, type: String)] {
        let output = try run("SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM \(DuckDBDatabase.readParquet(parquet)));\n", what: what)
        return DuckDBCSV.parse(output).dropFirst().compactMap { row in
            guard row.count == 2, let name = row[0] else { return nil }
            return (name, row[1] ?? "")
        }
    }

    /// Rows of a Parquet file (from its footer).
    static func rowCount(_ parquet: String, what: String) throws(TransformError) -> Int {
        let output = try run("SELECT count(*) FROM \(DuckDBDatabase.readParquet(parquet));\n", what: what)
        guard let count = DuckDBCSV.parse(output).dropFirst().first.flatMap({ $0.first ?? nil }).flatMap({ Int($0) }) else {
            throw TransformError("\(what): DuckDB gave no row count")
        }
        return count
    }

    /// Where conversions for readers go: `$ORCHESTRATOR_HOME/tmp/parquet` (each file removed by its reader).
    static func scratchFolder(home: String) -> String { "\(home)/tmp/parquet" }

    /// A fresh file path in `folder` (created if needed) for a conversion's output.
    static func scratchFile(in folder: String, suffix: String) throws(TransformError) -> String {
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        } catch {
            throw TransformError("cannot create \(folder): \(error.localizedDescription)")
        }
        return "\(folder)/\(UUID().uuidString)\(suffix)"
    }

    /// The types of a partition's `_schema.json` (silver's cleaning types, or gold's), by column name.
    static func schemaTypes(_ schemaPath: String?) throws(TransformError) -> [String: String] {
        guard let schemaPath else { return [:] }
        let list = try JSONFile.read(schemaPath)["columns"] as? [[String: Any]] ?? []
        var types: [String: String] = [:]
        for item in list { if let name = item["name"] as? String { types[name] = item["type"] as? String ?? "text" } }
        return types
    }

    /// A CSV copy (in `scratch`) of a Parquet partition's data with silver's text forms (`silverValue`), for
    /// readers of text: SQLite's staging, load.postgres. The caller removes it.
    static func silverTextCopy(of parquet: String, schema: String?, scratch: String, what: String) throws(TransformError) -> String {
        let types = try schemaTypes(schema)
        let select = try columns(of: parquet, what: what).map { column in
            silverValue(column.name, type: types[column.name] ?? "text")
        }.joined(separator: ", ")
        let copy = try scratchFile(in: scratch, suffix: ".csv")
        do { try csvCopy(of: parquet, select: select.isEmpty ? "*" : select, to: copy, what: what) } catch {
            unlink(copy)
            throw error
        }
        return copy
    }
}
