import Foundation

/// Models on PostgreSQL through a named connection (libpq): `CAST($1 AS TEXT)` parameters (typed, so a value
/// used only inside `||` or a CASE still has a type), transactional DDL, and CSV loads with `COPY FROM STDIN`.
/// Dropping a relation cascades to the views over it; the runner rebuilds the project's views it dropped.
final class PostgresModelEngine: ModelEngine {
    let engine = "postgres"
    let displayName: String
    let placeholder: @Sendable (Int) -> String = { "CAST($\($0) AS TEXT)" }
    private let connection: PostgresConnection

    init(url: String) throws(TransformError) {
        connection = try PostgresConnection(url: url)
        displayName = connection.displayURL
    }

    func execute(_ sql: String, _ parameters: [String?]) throws(TransformError) {
        _ = try connection.query(sql, parameters)
    }

    func query(_ sql: String, _ parameters: [String?], limit: Int) throws(TransformError) -> (columns: [String], rows: [[String?]]) {
        // The wrapper returns text rows only; column names come from a second, empty query.
        let rows = try connection.query("SELECT * FROM (\(sql)) AS result LIMIT \(max(0, limit))", parameters)
        let names = try connection.columnNames("SELECT * FROM (\(sql)) AS result LIMIT 0", parameters)
        return (names, rows)
    }

    func transaction(_ body: () throws(TransformError) -> Void) throws(TransformError) {
        try connection.execute("BEGIN")
        do {
            try body()
            try connection.execute("COMMIT")
        } catch {
            try? connection.execute("ROLLBACK")
            throw error
        }
    }

    func relationKind(_ name: String) throws(TransformError) -> String? {
        let kind = try connection.query("SELECT relkind::text FROM pg_class WHERE oid = to_regclass($1)", [PostgresConnection.quote(name)]).first?.first ?? nil
        switch kind {
        case "r", "p": return "table"
        case "v", "m": return "view"
        default: return nil
        }
    }

    func columns(of table: String) throws(TransformError) -> [String] {
        try connection.query("SELECT attname::text FROM pg_attribute WHERE attrelid = to_regclass($1) AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
                             [PostgresConnection.quote(table)]).compactMap { $0.first ?? nil }
    }

    func drop(_ name: String, kind: String) throws(TransformError) {
        try connection.execute("DROP \(kind == "view" ? "VIEW" : "TABLE") IF EXISTS \(PostgresConnection.quote(name)) CASCADE")
    }

    static func type(of column: TableLoader.Column) -> String {
        switch column.affinity {
        case "INTEGER": return ["bool", "boolean"].contains(column.type.lowercased()) ? "BOOLEAN" : "BIGINT"
        case "REAL": return "DOUBLE PRECISION"
        default: return "TEXT"
        }
    }

    func createTable(_ table: String, columns: [TableLoader.Column], withDS: Bool) throws(TransformError) {
        if let kind = try relationKind(table) { try drop(table, kind: kind) }
        var definitions = columns.map { "\(PostgresConnection.quote($0.name)) \(Self.type(of: $0))" }
        if withDS { definitions.insert("\"ds\" TEXT NOT NULL", at: 0) }
        try connection.execute("CREATE TABLE \(PostgresConnection.quote(table)) (\(definitions.joined(separator: ", ")))")
    }

    /// COPY into a temporary table of text columns named after the file's header, then one INSERT … SELECT that
    /// casts each declared column and adds `ds`: a file whose header lacks a declared column fails here.
    func load(csv: String, into table: String, columns: [TableLoader.Column], ds: String?) throws(TransformError) -> Int {
        let reader = try wrap { () throws(CSVReader.Failure) in try CSVReader(path: csv) }
        guard let header = try wrap({ () throws(CSVReader.Failure) in try reader.next() }), !(header.count == 1 && header[0].isEmpty) else { return 0 }
        let staging = "_orchestrator_load"
        try connection.execute("DROP TABLE IF EXISTS \(staging); CREATE TEMP TABLE \(staging) (\(header.map { "\(PostgresConnection.quote($0)) TEXT" }.joined(separator: ", ")))")
        try connection.copyIn("COPY \(staging) FROM STDIN (FORMAT csv, HEADER true)", from: csv)
        for column in columns where !header.contains(column.name) {
            throw TransformError("loading \(csv) into \(table): its header has no column \(column.name)")
        }
        var names = columns.map { PostgresConnection.quote($0.name) }
        var values = columns.map { column in
            let quoted = PostgresConnection.quote(column.name)
            let type = Self.type(of: column)
            return type == "TEXT" ? quoted : "CAST(NULLIF(\(quoted), '') AS \(type))"
        }
        var parameters: [String?] = []
        if let ds { names.insert("\"ds\"", at: 0); values.insert("CAST($1 AS TEXT)", at: 0); parameters.append(ds) }
        _ = try connection.query("INSERT INTO \(PostgresConnection.quote(table)) (\(names.joined(separator: ", "))) SELECT \(values.joined(separator: ", ")) FROM \(staging)", parameters)
        let counted = try connection.query("SELECT COUNT(*) FROM \(staging)").first?.first ?? nil
        let count = counted.flatMap { Int($0) } ?? 0
        try connection.execute("DROP TABLE \(staging)")
        return count
    }

    /// A PostgreSQL target is where models are read already; `export` (checked before the run) is for SQLite targets.
    func exportGold(_ relation: String, partitioned: Bool, filter: (sql: String, parameters: [String?])?,
                    context: TransformContext) throws(TransformError) -> Int {
        throw TransformError("\(ModelsRun.name): export of \(relation) needs a SQLite target (the warehouse); a PostgreSQL target is read in place")
    }
}
