import Foundation
import SQLiteDirect

/// Loads CSV files into SQLite tables, replacing one `ds` partition or the whole table inside the caller's
/// transaction. Shared by the gold staging of silver tables and by `load.warehouse`.
enum TableLoader {
    struct Column {
        let name: String
        /// The type declared in `_schema.json` (cleaning types, or SQLite's for gold models).
        let type: String

        /// SQLite affinity, so that numbers loaded from text compare and sum as numbers.
        var affinity: String {
            switch type.lowercased() {
            case "int", "integer", "bool", "boolean": return "INTEGER"
            case "decimal", "real", "float", "double", "numeric", "num": return "REAL"
            default: return "TEXT"
            }
        }
    }

    /// The columns of a partition, from its `_schema.json` (falling back to the CSV header as text).
    static func columns(schema schemaPath: String?, csv: String) throws(TransformError) -> [Column] {
        if let schemaPath {
            let schema = try JSONFile.read(schemaPath)
            if let list = schema["columns"] as? [[String: Any]] {
                return list.compactMap { item in
                    (item["name"] as? String).map { Column(name: $0, type: item["type"] as? String ?? "text") }
                }
            }
        }
        let reader = try wrap { () throws(CSVReader.Failure) in try CSVReader(path: csv) }
        let header = try wrap { () throws(CSVReader.Failure) in try reader.next() } ?? []
        return header.map { Column(name: $0, type: "text") }
    }

    static func quote(_ identifier: String) -> String { "\"\(identifier.replacingOccurrences(of: "\"", with: "\"\""))\"" }

    /// Creates the table if needed (with a leading `ds` column when partitioned) and adds columns it lacks.
    static func ensureTable(_ db: SQLiteDatabase, table: String, columns: [Column], partitioned: Bool) throws(SQLiteError) {
        let existing = try existingColumns(db, table: table)
        if existing.isEmpty {
            var definitions = columns.map { "\(quote($0.name)) \($0.affinity)" }
            if partitioned { definitions.insert("\"ds\" TEXT NOT NULL", at: 0) }
            try db.execute("CREATE TABLE \(quote(table)) (\(definitions.joined(separator: ", ")))")
            if partitioned { try db.execute("CREATE INDEX IF NOT EXISTS \(quote("\(table)_by_ds")) ON \(quote(table))(ds)") }
            return
        }
        for column in columns where !existing.contains(column.name) {
            try db.execute("ALTER TABLE \(quote(table)) ADD COLUMN \(quote(column.name)) \(column.affinity)")
        }
    }

    static func existingColumns(_ db: SQLiteDatabase, table: String) throws(SQLiteError) -> [String] {
        let statement = try db.prepare("SELECT name FROM pragma_table_info(?)")
        try statement.bind([.text(table)])
        var names: [String] = []
        while try statement.step() { if let name = statement.text(0) { names.append(name) } }
        return names
    }

    /// Inserts every row of `csv` (header first) into `table`; empty fields become NULL. Returns the rows loaded.
    @discardableResult
    static func insert(_ db: SQLiteDatabase, table: String, csv: String, columns: [Column], ds: String?) throws(TransformError) -> Int {
        let reader = try wrap { () throws(CSVReader.Failure) in try CSVReader(path: csv) }
        guard let header = try wrap({ () throws(CSVReader.Failure) in try reader.next() }) else { return 0 }
        let positions = columns.map { column in header.firstIndex(of: column.name) }
        var names = columns.map { quote($0.name) }
        if ds != nil { names.insert("\"ds\"", at: 0) }
        let placeholders = Array(repeating: "?", count: names.count).joined(separator: ", ")
        let booleans = columns.map { $0.type == "bool" || $0.type == "boolean" }
        var count = 0
        do {
            let statement = try db.prepare("INSERT INTO \(quote(table)) (\(names.joined(separator: ", "))) VALUES (\(placeholders))")
            let offset: Int32 = ds == nil ? 1 : 2
            while let row = try wrap({ () throws(CSVReader.Failure) in try reader.next() }) {
                if row.count == 1 && row[0].isEmpty { continue }
                statement.reset()
                if let ds { statement.bindText(ds, at: 1) }
                for (index, position) in positions.enumerated() {
                    var value = position.flatMap { $0 < row.count ? row[$0] : nil }
                    if value?.isEmpty == true { value = nil }
                    if booleans[index], let text = value { value = text == "true" ? "1" : (text == "false" ? "0" : text) }
                    statement.bindText(value, at: Int32(index) + offset)
                }
                while try statement.step() {}
                count += 1
            }
        } catch let error as SQLiteError {
            throw TransformError("loading \(csv) into \(table): \(error.description)")
        } catch let error as TransformError {
            throw error
        } catch {
            throw TransformError("loading \(csv) into \(table): \(error)")
        }
        return count
    }

    /// Opens (creating) a SQLite database for analytical work: WAL, NORMAL sync, bigger cache.
    static func openDatabase(_ path: String) throws(TransformError) -> SQLiteDatabase {
        do {
            try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        } catch {
            throw TransformError("cannot create the folder of \(path)")
        }
        do {
            let db = try SQLiteDatabase(path: path, create: true)
            try db.execute("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA cache_size = -65536; PRAGMA temp_store = MEMORY")
            return db
        } catch {
            throw TransformError(error.description)
        }
    }
}

/// Runs SQLite work, turning its errors into a TransformError with context.
func sqlite<T>(_ what: String, _ body: () throws(SQLiteError) -> T) throws(TransformError) -> T {
    do { return try body() } catch { throw TransformError("\(what): \(error.description)") }
}
