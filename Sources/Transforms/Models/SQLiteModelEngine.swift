import Foundation
import SQLiteDirect

/// Models on a SQLite file (the warehouse by default): `?1`-style parameters, DDL inside transactions, so a
/// rebuilt table replaces the old one atomically for readers (WAL).
final class SQLiteModelEngine: ModelEngine {
    let engine = "sqlite"
    let displayName: String
    let placeholder: @Sendable (Int) -> String = { "?\($0)" }
    private let db: SQLiteDatabase

    init(path: String) throws(TransformError) {
        displayName = path
        db = try TableLoader.openDatabase(path)
    }

    func execute(_ sql: String, _ parameters: [String?]) throws(TransformError) {
        try sqlite(SQLiteDatabase.summaryLine(sql)) { () throws(SQLiteError) in
            let statement = try db.prepareSingle(sql)
            try statement.bind(parameters.map { SQLiteValue($0) })
            while try statement.step() {}
        }
    }

    func query(_ sql: String, _ parameters: [String?], limit: Int) throws(TransformError) -> (columns: [String], rows: [[String?]]) {
        try sqlite(SQLiteDatabase.summaryLine(sql)) { () throws(SQLiteError) -> (columns: [String], rows: [[String?]]) in
            let statement = try db.prepareSingle(sql)
            try statement.bind(parameters.map { SQLiteValue($0) })
            let columns = (0..<statement.columnCount).map { statement.columnName($0) }
            return (columns, try statement.allRows(limit: limit))
        }
    }

    func transaction(_ body: () throws(TransformError) -> Void) throws(TransformError) {
        try sqlite("BEGIN") { () throws(SQLiteError) in try db.execute("BEGIN IMMEDIATE") }
        do {
            try body()
            try sqlite("COMMIT") { () throws(SQLiteError) in try db.execute("COMMIT") }
        } catch {
            try? db.execute("ROLLBACK")
            throw error
        }
    }

    func relationKind(_ name: String) throws(TransformError) -> String? {
        try scalar("SELECT type FROM sqlite_master WHERE name = ?1 AND type IN ('table', 'view')", [name])
    }

    func columns(of table: String) throws(TransformError) -> [String] {
        try sqlite("reading \(table)") { () throws(SQLiteError) in try TableLoader.existingColumns(db, table: table) }
    }

    func drop(_ name: String, kind: String) throws(TransformError) {
        try sqlite("dropping \(name)") { () throws(SQLiteError) in
            try db.execute("DROP \(kind == "view" ? "VIEW" : "TABLE") IF EXISTS \(TableLoader.quote(name))")
        }
    }

    func createTable(_ table: String, columns: [TableLoader.Column], withDS: Bool) throws(TransformError) {
        if let kind = try relationKind(table) { try drop(table, kind: kind) }
        try sqlite("creating \(table)") { () throws(SQLiteError) in
            try TableLoader.ensureTable(db, table: table, columns: columns, partitioned: withDS)
        }
    }

    func load(csv: String, into table: String, columns: [TableLoader.Column], ds: String?) throws(TransformError) -> Int {
        try TableLoader.insert(db, table: table, csv: csv, columns: columns, ds: ds)
    }

    func exportGold(_ relation: String, partitioned: Bool, filter: (sql: String, parameters: [String?])?,
                    context: TransformContext) throws(TransformError) -> Int {
        try GoldPartitionExport.publish(relation, db: db, partitioned: partitioned,
                                        filter: filter.map { ($0.sql, $0.parameters.map { SQLiteValue($0) }) }, context: context)
    }
}

extension SQLiteDatabase {
    /// The first line of a statement, for messages.
    static func summaryLine(_ sql: String) -> String {
        let line = sql.split(separator: "\n").first.map(String.init) ?? sql
        return line.count > 80 ? String(line.prefix(80)) + "…" : line
    }
}
