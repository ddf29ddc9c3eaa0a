import Foundation

/// load.warehouse into DuckDB: one script, one transaction for every table (DuckDB reads the gold CSV files
/// itself), so readers see the previous load or the new one whole and a failure leaves the previous one.
extension LoadWarehouse {
    static func loadIntoDuckDB(_ sources: [Source], path: String, context: TransformContext) throws(TransformError) -> [Int] {
        let db = try DuckDBDatabase(path: path, log: context.log)
        defer { db.close() }
        let ds = DuckDBDatabase.literal(context.ds)
        // UTC, as everywhere in the library: a TIMESTAMPTZ column must not read by the machine's zone.
        var script = "SET TimeZone = 'UTC';\nBEGIN TRANSACTION;\n"
        var counts: [String] = []
        for source in sources {
            let quoted = DuckDBDatabase.quote(source.table)
            let columns = source.columns.map { (name: $0.name, type: DuckDBDatabase.goldColumnType($0.type)) }
            let read = source.format == .parquet ? DuckDBDatabase.readParquet(source.csv) : DuckDBDatabase.readCSV(source.csv, columns: columns)
            if source.partitioned {
                let definitions = ["\"ds\" VARCHAR NOT NULL"] + columns.map { "\(DuckDBDatabase.quote($0.name)) \($0.type)" }
                script += "CREATE TABLE IF NOT EXISTS \(quoted) (\(definitions.joined(separator: ", ")));\n"
                for column in columns {
                    script += "ALTER TABLE \(quoted) ADD COLUMN IF NOT EXISTS \(DuckDBDatabase.quote(column.name)) \(column.type);\n"
                }
                script += "DELETE FROM \(quoted) WHERE ds = \(ds);\n"
                script += "INSERT INTO \(quoted) BY NAME SELECT \(ds) AS ds, * FROM \(read);\n"
                counts.append("SELECT \(counts.count) AS position, count(*) AS loaded FROM \(quoted) WHERE ds = \(ds)")
            } else {
                let definitions = columns.map { "\(DuckDBDatabase.quote($0.name)) \($0.type)" }
                script += "CREATE OR REPLACE TABLE \(quoted) (\(definitions.joined(separator: ", ")));\n"
                script += "INSERT INTO \(quoted) BY NAME SELECT * FROM \(read);\n"
                counts.append("SELECT \(counts.count) AS position, count(*) AS loaded FROM \(quoted)")
            }
        }
        script += "COMMIT;\n" + counts.joined(separator: "\nUNION ALL ") + "\nORDER BY position;\n"
        let rows = try duckdb("\(name) into \(path)") { () throws(DuckDBFailure) in try db.query(script).rows }
        let loaded = rows.compactMap { $0.count == 2 ? $0[1].flatMap { Int($0) } : nil }
        guard loaded.count == sources.count else {
            throw TransformError("\(name) into \(path): DuckDB reported \(loaded.count) row counts for \(sources.count) tables")
        }
        return loaded
    }
}
