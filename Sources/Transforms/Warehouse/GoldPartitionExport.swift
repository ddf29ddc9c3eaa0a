import Foundation
import SQLiteDirect

/// Writes a SQLite relation's rows as the gold partition `gold/<name>/ds=<ds>/` (`data.csv` + `_schema.json`),
/// published atomically through the lake: the format load.warehouse and load.postgres read. Shared by gold.sql
/// (its work database) and models.run's `export` (the SQLite target).
enum GoldPartitionExport {
    /// Exports `relation`'s rows, or those matching `filter` (a WHERE clause with its parameters). A `partition`
    /// export leaves out a `ds` column: the loaders add the partition's own. Returns the rows written.
    static func publish(_ relation: String, db: SQLiteDatabase, partitioned: Bool,
                        filter: (sql: String, parameters: [SQLiteValue])?, format: LakeFormat = .csv,
                        context: TransformContext) throws(TransformError) -> Int {
        let partition = try LakePartition(table: "gold/\(relation)", ds: context.ds)
        let staging = try context.lake.stage(partition)
        do {
            let columns = try sqlite("reading \(relation)") { () throws(SQLiteError) -> [(String, String)] in
                let statement = try db.prepare("SELECT name, type FROM pragma_table_info(?)")
                try statement.bind([.text(relation)])
                var list: [(String, String)] = []
                while try statement.step() { list.append((statement.text(0) ?? "", statement.text(1) ?? "")) }
                return list
            }.filter { !partitioned || $0.0 != "ds" }
            guard !columns.isEmpty else { throw TransformError("exporting \(relation): no such table or view, or it has no columns") }
            let writer = try wrap { () throws(CSVWriter.Failure) in try CSVWriter(path: staging.path("data.csv")) }
            try wrap { () throws(CSVWriter.Failure) in try writer.write(columns.map(\.0)) }
            let select = "SELECT \(columns.map { TableLoader.quote($0.0) }.joined(separator: ", ")) FROM \(TableLoader.quote(relation))"
                + (filter.map { " WHERE \($0.sql)" } ?? "")
            // CREATE TABLE AS leaves computed columns without a declared type: infer each from its values.
            var kinds = [Set<SQLiteStorageClass>](repeating: [], count: columns.count)
            try sqlite("exporting \(relation)") { () throws(SQLiteError) in
                let statement = try db.prepare(select)
                try statement.bind(filter?.parameters ?? [])
                var row = [String](repeating: "", count: columns.count)
                while try statement.step() {
                    for index in 0..<columns.count {
                        row[index] = statement.text(index) ?? ""
                        kinds[index].insert(statement.storageClass(index))
                    }
                    do { try writer.write(row) } catch { throw SQLiteError("\(error)") }
                }
            }
            try wrap { () throws(CSVWriter.Failure) in try writer.commit() }
            func inferredType(_ index: Int) -> String {
                let seen = kinds[index].subtracting([.null])
                if seen == [.integer] { return "integer" }
                if !seen.isEmpty && seen.isSubset(of: [.integer, .real]) { return "real" }
                if seen.contains(.text) || seen.contains(.blob) { return "text" }  // SQLite lets a typed column hold text
                let declared = columns[index].1.lowercased()
                return declared.isEmpty ? "text" : declared
            }
            let schema: [String: Any] = [
                "columns": columns.indices.map { ["name": columns[$0].0, "type": inferredType($0)] },
                "materialized": partitioned ? "partition" : "full", "model": relation, "ds": context.ds,
                "format": format.rawValue,
            ]
            if format == .parquet {
                // The exported CSV, typed by the inferred types, becomes data.parquet.
                let typed = columns.indices.map { (name: columns[$0].0, type: DuckDBDatabase.goldColumnType(inferredType($0))) }
                try ParquetFiles.write(csv: staging.path("data.csv"), columns: typed, to: staging.path("data.parquet"),
                                       what: "writing gold/\(relation)/ds=\(context.ds) as Parquet")
                unlink(staging.path("data.csv"))
            }
            try JSONFile.write(schema, to: staging.path("_schema.json"))
            try context.lake.publish(staging)
            return writer.rows - 1
        } catch {
            context.lake.discard(staging)
            throw error as? TransformError ?? TransformError("\(error)")
        }
    }
}
