import SQLiteDirect

extension TableLoader {
    /// Upserts a gold CSV into an existing SQLite table, or replaces the partitions it holds, inside the caller's
    /// transaction: the rows are staged in a temporary table with the target's column types, then merged.
    static func merge(_ db: SQLiteDatabase, source: LoadWarehouse.Source, mode: LoadMode) throws(TransformError) -> Int {
        try mode.checkColumns(source.columns.map(\.name), operation: "load.warehouse")
        return try sqlite("load.warehouse \(source.table)") { () throws(SQLiteError) -> Int in
            let existing = try existingColumns(db, table: source.table)
            guard !existing.isEmpty else {
                throw SQLiteError("table \(source.table) does not exist in the warehouse; create it with sql.migrate (\(LoadMode.describe(mode.kind)) needs its key)")
            }
            let columns = source.columns.map(\.name)
            for column in columns where !existing.contains(column) {
                throw SQLiteError("table \(source.table) has no column \(column) (the gold table has it): add it with a migration")
            }
            let staged = "\(source.table)__incoming"
            try db.execute("DROP TABLE IF EXISTS temp.\(quote(staged))")
            try db.execute("CREATE TEMP TABLE \(quote(staged)) AS SELECT \(columns.map(quote).joined(separator: ", ")) FROM main.\(quote(source.table)) WHERE 0")
            let count: Int
            do { count = try insert(db, table: staged, csv: source.csv, columns: source.columns, ds: nil) } catch {
                throw SQLiteError("\(error)")
            }
            for statement in mode.mergeStatements(target: "main.\(quote(source.table))", table: quote(source.table), staged: "temp.\(quote(staged))", columns: columns,
                                                  quote: quote, postgres: false) {
                try db.execute(statement)
            }
            try db.execute("DROP TABLE temp.\(quote(staged))")
            return count
        }
    }
}

extension LoadMode {
    static func describe(_ kind: Kind?) -> String {
        switch kind {
        case nil: return "replace"
        case .upsert(let key, let update, let replaceBy):
            return "upsert on \(key.joined(separator: ", "))\(update ? "" : ", do nothing")\(replaceBy.map { ", replacing by \($0)" } ?? "")"
        case .replacePartition(let column): return "replace partition by \(column)"
        }
    }
}
