import Foundation
import SQLiteDirect

/// A DuckDB database file as one task uses it: the CLI found, the file's lock held for the whole operation
/// (`DuckDBFileLock`), and scripts run with the run's parameters set as DuckDB variables, so that templated
/// values (`{{ ds }}`) reach SQL as `getvariable('ds')`, never as text inside a model.
final class DuckDBDatabase {
    let path: String
    let cli: DuckDBCLI
    private let lock: DuckDBFileLock
    private let lockWait: TimeInterval

    /// Finds the CLI (or fails with how to install it) and takes the file's lock.
    init(path: String, log: TransformLog, environment: [String: String] = ProcessInfo.processInfo.environment) throws(TransformError) {
        self.path = path
        cli = DuckDBCLI(executable: try DuckDBCLI.locate(environment: environment), database: path)
        do {
            try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        } catch {
            throw TransformError("cannot create the folder of \(path)")
        }
        lock = DuckDBFileLock(database: path)
        lockWait = DuckDBFileLock.waitLimit(environment: environment)
        try lock.acquire(limit: lockWait) { log("duckdb: \(path) is in use by another task; waiting for it") }
    }

    func close() { lock.release() }

    /// Runs a script; DuckDB's own lock error (a process outside the orchestrator, such as an analyst's CLI,
    /// has the file open for writing) is retried until the lock wait runs out: nothing ran, so a retry is safe.
    func run(_ script: String) throws(DuckDBFailure) -> String {
        let deadline = Date().addingTimeInterval(lockWait)
        while true {
            do {
                return try cli.run(script)
            } catch let failure where failure.isLockConflict && Date() < deadline {
                usleep(200_000)
            }
        }
    }

    func query(_ script: String) throws(DuckDBFailure) -> (columns: [String], rows: [[String?]]) {
        let records = DuckDBCSV.parse(try run(script))
        guard let header = records.first else { return ([], []) }
        return (header.map { $0 ?? "" }, Array(records.dropFirst()))
    }

    /// A string literal: quotes doubled (DuckDB's standard strings have no backslash escapes).
    static func literal(_ text: String) -> String { "'" + text.replacingOccurrences(of: "'", with: "''") + "'" }

    static func quote(_ identifier: String) -> String { TableLoader.quote(identifier) }

    /// True when `sql` holds no `;` outside literals, quoted identifiers and comments: a model or a test is one
    /// statement, as SQLite's prepare enforces on that engine (a trailing `;` is trimmed before).
    static func isSingleStatement(_ sql: String) -> Bool {
        let bytes = Array(sql.utf8)
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            let next: UInt8? = index + 1 < bytes.count ? bytes[index + 1] : nil
            switch byte {
            case 0x3B: return false
            case 0x27, 0x22:  // 'literal' or "identifier" ('' and "" inside are two quotes in a row: still inside)
                index += 1
                while index < bytes.count && bytes[index] != byte { index += 1 }
            case 0x2D where next == 0x2D:
                while index < bytes.count && bytes[index] != 0x0A { index += 1 }
            case 0x2F where next == 0x2A:
                index += 2
                while index + 1 < bytes.count && !(bytes[index] == 0x2A && bytes[index + 1] == 0x2F) { index += 1 }
                index += 1
            case 0x24 where next == 0x24:  // $$dollar-quoted$$
                index += 2
                while index + 1 < bytes.count && !(bytes[index] == 0x24 && bytes[index + 1] == 0x24) { index += 1 }
                index += 1
            default: break
            }
            index += 1
        }
        return true
    }

    /// Where a template parameter reads its value in DuckDB SQL.
    static func placeholder(_ name: String) -> String { "getvariable(\(literal(name)))" }

    /// `SET VARIABLE` statements for the run's parameters (checked values: a real date, UTC timestamps).
    /// First the zone: DuckDB takes the machine's, so a timestamp cast to a date (or written by COPY) would depend on
    /// where the task runs; SQLite works in UTC.
    static func variables(_ context: TransformContext) throws(TransformError) -> String {
        "SET TimeZone = 'UTC';\n" + (try SQLTemplate.arguments(context).sorted { $0.key < $1.key }.map { name, value in
            guard case .text(let text) = value else { return "" }
            return "SET VARIABLE \(name) = \(literal(text));\n"
        }.joined())
    }

    /// The columns of `table` (name, DuckDB type) in order; empty when it does not exist.
    func columns(of table: String) throws(DuckDBFailure) -> [(name: String, type: String)] {
        try query("SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = 'main' AND table_name = \(Self.literal(table)) ORDER BY ordinal_position;\n")
            .rows.map { ($0.first.flatMap { $0 } ?? "", $0.count > 1 ? ($0[1] ?? "") : "") }
    }

    /// DuckDB's column type for a silver column (the cleaning types of `_schema.json`). Dates, timestamps and
    /// uuids stay VARCHAR, as in SQLite, so that one model's SQL reads them the same on both engines; a DuckDB
    /// model variant that wants a DATE casts.
    static func silverColumnType(_ declared: String) -> String {
        switch declared.lowercased() {
        case "int", "integer": return "BIGINT"
        case "decimal", "real": return "DOUBLE"
        case "bool", "boolean": return "BOOLEAN"
        default: return "VARCHAR"
        }
    }

    /// DuckDB's column type for a gold column (a `_schema.json` type: `schemaType`'s vocabulary, or SQLite's).
    static func goldColumnType(_ declared: String) -> String {
        switch declared.lowercased() {
        case "int", "integer": return "BIGINT"
        case "decimal", "real", "float", "double", "numeric": return "DOUBLE"
        case "bool", "boolean": return "BOOLEAN"
        case "date": return "DATE"
        case "timestamp": return "TIMESTAMP"
        case "timestamptz": return "TIMESTAMPTZ"
        default: return "VARCHAR"
        }
    }

    /// A DuckDB column type in the engine-neutral vocabulary of gold `_schema.json` files, which both
    /// warehouses' loaders read: integer, real, bool, date, timestamp, timestamptz, text.
    static func schemaType(_ duckDBType: String) -> String {
        let type = duckDBType.uppercased()
        if ["BIGINT", "INTEGER", "SMALLINT", "TINYINT", "HUGEINT", "UBIGINT", "UINTEGER", "USMALLINT", "UTINYINT", "UHUGEINT"].contains(type) {
            return "integer"
        }
        if ["DOUBLE", "FLOAT", "REAL"].contains(type) || type.hasPrefix("DECIMAL") { return "real" }
        switch type {
        case "BOOLEAN": return "bool"
        case "DATE": return "date"
        case "TIMESTAMP": return "timestamp"
        case "TIMESTAMP WITH TIME ZONE": return "timestamptz"
        default: return "text"
        }
    }

    /// `read_parquet` of a lake file, as it is: no `ds` column guessed from a `ds=…` folder in its path.
    static func readParquet(_ path: String) -> String {
        "read_parquet(\(literal(path)), hive_partitioning = false)"
    }

    /// `read_csv` of a lake file with the declared columns, nothing guessed.
    static func readCSV(_ path: String, columns: [(name: String, type: String)]) -> String {
        let spec = columns.map { "\(literal($0.name)): \(literal($0.type))" }.joined(separator: ", ")
        return "read_csv(\(literal(path)), header = true, auto_detect = false, hive_partitioning = false, delim = ',', quote = '\"', escape = '\"', columns = {\(spec)})"
    }
}

