import Foundation
import SQLiteDirect

/// `load.warehouse`: publishes gold tables from the lake into the warehouse (SQLite by default:
/// `$ORCHESTRATOR_HOME/warehouse.db`, or DuckDB: `duckdb:///path`). Options: `tables` (gold model names), `target`
/// (a connection name whose URL is `sqlite:///path` or `duckdb:///path`; default the warehouse). All tables are replaced in one transaction: a partitioned
/// model replaces its `ds` rows, a full model replaces the whole table, so readers never see half a load. A table given
/// as a map is upserted or has a partition replaced instead (see `LoadMode`; SQLite only).
public enum LoadWarehouse: TransformOperation {
    public static let name = "load.warehouse"

    public static func run(_ options: TransformOptions, _ context: TransformContext) throws(TransformError) {
        try options.allowOnly(["tables", "target"])
        let modes = try LoadMode.parse(options, operation: name)
        let url = try options.optionalString("target").map { (target: String) throws(TransformError) -> String in
            try context.connections.url(target)
        } ?? context.warehouse
        guard url.hasPrefix("sqlite://") || url.hasPrefix("duckdb://") else {
            throw TransformError("\(name): target \(Connections.redacted(url)) is not a sqlite:// or duckdb:// warehouse (use load.postgres for PostgreSQL)")
        }
        let location = try WarehouseLocation.parse(url, what: "\(name): target")
        var sources: [Source] = []
        for mode in modes {
            let table = mode.table
            let partition = try LakePartition(table: "gold/\(table)", ds: context.ds)
            let content = try context.lake.content(of: partition)
            guard let (csv, format) = try goldData(in: content, lake: context.lake),
                  let schemaPath = try context.lake.localPath(of: "_schema.json", in: content) else {
                throw TransformError("\(name): \(partition) does not exist in the lake; run gold.sql first")
            }
            let schema = try JSONFile.read(schemaPath)
            sources.append(Source(table: table, csv: csv, columns: try TableLoader.columns(schema: schemaPath, csv: csv),
                                  partitioned: (schema["materialized"] as? String) == "partition", format: format, mode: mode.kind))
        }
        let counts: [Int]
        switch location {
        case .duckdb(let path):
            guard !sources.contains(where: { $0.mode != nil }) else {
                throw TransformError("\(name): upsert and replace_partition modes load SQLite warehouses and PostgreSQL (load.postgres), not DuckDB")
            }
            counts = try loadIntoDuckDB(sources, path: path, context: context)
        case .sqlite(let path):
            let (readable, copies) = try csvCopies(of: sources, context: context)
            defer { for copy in copies { unlink(copy) } }
            counts = try loadIntoSQLite(readable, path: path, context: context)
        }
        for (source, count) in zip(sources, counts) {
            context.results.output("warehouse \(source.table)", rows: count)
            context.log("load.warehouse: \(source.table) ← \(count) rows (\(source.mode.map(LoadMode.describe) ?? (source.partitioned ? "partition ds=\(context.ds)" : "full table")))")
        }
    }

    struct Source {
        let table: String
        /// The data file: CSV, or Parquet when `format` says so.
        let csv: String
        let columns: [TableLoader.Column]
        let partitioned: Bool
        var format: LakeFormat = .csv
        var mode: LoadMode.Kind? = nil
    }

    static func loadIntoSQLite(_ sources: [Source], path: String, context: TransformContext) throws(TransformError) -> [Int] {
        let db = try TableLoader.openDatabase(path)
        return try sqlite("\(name) into \(path)") { () throws(SQLiteError) -> [Int] in
            try db.transaction { () throws(SQLiteError) -> [Int] in
                var counts: [Int] = []
                for source in sources {
                    let quoted = TableLoader.quote(source.table)
                    do {
                        if let mode = source.mode {
                            counts.append(try TableLoader.merge(db, source: source, mode: LoadMode(table: source.table, kind: mode)))
                        } else if source.partitioned {
                            try TableLoader.ensureTable(db, table: source.table, columns: source.columns, partitioned: true)
                            try db.run("DELETE FROM \(quoted) WHERE ds = ?", [.text(context.ds)])
                            counts.append(try TableLoader.insert(db, table: source.table, csv: source.csv, columns: source.columns, ds: context.ds))
                        } else {
                            let next = "\(source.table)__load"
                            try db.execute("DROP TABLE IF EXISTS \(TableLoader.quote(next))")
                            try TableLoader.ensureTable(db, table: next, columns: source.columns, partitioned: false)
                            counts.append(try TableLoader.insert(db, table: next, csv: source.csv, columns: source.columns, ds: nil))
                            try db.execute("DROP TABLE IF EXISTS \(quoted)")
                            try db.execute("ALTER TABLE \(TableLoader.quote(next)) RENAME TO \(quoted)")
                        }
                    } catch let error as SQLiteError {
                        throw error
                    } catch {
                        throw SQLiteError("\(error)")
                    }
                }
                return counts
            }
        }
    }
}
