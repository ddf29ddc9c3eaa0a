import Foundation

/// Gold partitions written as Parquet, for the loads: DuckDB reads `data.parquet` itself; SQLite and PostgreSQL
/// get a CSV copy (DuckDB's rendering of the typed values), removed after the load.
extension LoadWarehouse {
    /// The local path and format of a gold partition's data file, or nil when the partition has none.
    static func goldData(in content: LakeContent, lake: any Lake) throws(TransformError) -> (path: String, format: LakeFormat)? {
        guard let (file, format) = LakeFormat.dataFile(in: content) else { return nil }
        return (try lake.localPath(of: file), format)
    }

    /// A CSV copy (header first) of a Parquet gold file, in `$ORCHESTRATOR_HOME/tmp/parquet`. Columns the schema
    /// calls integer are cast back to BIGINT: DuckDB writes a HUGEINT (what its SUM of integers gives) to Parquet as
    /// a DOUBLE, which would print `5111.0`.
    static func csvCopy(of parquet: String, table: String, columns: [TableLoader.Column], context: TransformContext) throws(TransformError) -> String {
        let copy = try ParquetFiles.scratchFile(in: ParquetFiles.scratchFolder(home: context.home), suffix: ".csv")
        let select = columns.isEmpty ? "*" : columns.map { column in
            let quoted = DuckDBDatabase.quote(column.name)
            return column.affinity == "INTEGER" && column.type.lowercased() != "bool" && column.type.lowercased() != "boolean"
                ? "CAST(\(quoted) AS BIGINT) AS \(quoted)" : quoted
        }.joined(separator: ", ")
        do { try ParquetFiles.csvCopy(of: parquet, select: select, to: copy, what: "\(name): reading gold/\(table)/ds=\(context.ds)") } catch {
            unlink(copy)
            throw error
        }
        return copy
    }

    /// The sources with each Parquet file replaced by a CSV copy, and the copies to remove afterwards.
    static func csvCopies(of sources: [Source], context: TransformContext) throws(TransformError) -> ([Source], [String]) {
        var copies: [String] = []
        var readable: [Source] = []
        for source in sources {
            guard source.format == .parquet else { readable.append(source); continue }
            do {
                let copy = try csvCopy(of: source.csv, table: source.table, columns: source.columns, context: context)
                copies.append(copy)
                readable.append(Source(table: source.table, csv: copy, columns: source.columns, partitioned: source.partitioned, mode: source.mode))
            } catch {
                for copy in copies { unlink(copy) }
                throw error
            }
        }
        return (readable, copies)
    }
}
