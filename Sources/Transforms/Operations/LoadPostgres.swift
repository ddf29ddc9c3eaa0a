import Foundation

/// `load.postgres`: publishes gold tables into a PostgreSQL schema with `COPY … FROM STDIN`, all tables in one
/// transaction. Options: `connection` (name of a postgres:// connection), `schema` (default `reporting`),
/// `tables` (gold model names), `optional` (default false: when true and the connection is not configured,
/// the task logs that and succeeds). A partitioned model replaces its `ds` rows, a full model the whole table; a table
/// given as a map is upserted or has its partitions replaced (see `LoadMode`), into a table sql.migrate created.
public enum LoadPostgres: TransformOperation {
    public static let name = "load.postgres"

    public static func run(_ options: TransformOptions, _ context: TransformContext) throws(TransformError) {
        try options.allowOnly(["connection", "schema", "tables", "optional"])
        // ds is spliced into a DDL default below (no parameters there): only a real date gets that far.
        try TransformContext.checkDS(context.ds)
        let connectionName = try options.string("connection")
        if try options.bool("optional", default: false), (try? context.connections.url(connectionName)) == nil {
            context.log("load.postgres: connection '\(connectionName)' is not configured (ORCHESTRATOR_CONN_\(connectionName.uppercased())); nothing to load")
            return
        }
        let url = try context.connections.url(connectionName)
        let schema = try options.optionalString("schema") ?? "reporting"
        try Naming.check(schema, what: "schema", operation: name)
        let modes = try LoadMode.parse(options, operation: name)
        let connection = try PostgresConnection(url: url)
        let quotedSchema = PostgresConnection.quote(schema)
        try connection.execute("BEGIN")
        do {
            try connection.execute("CREATE SCHEMA IF NOT EXISTS \(quotedSchema)")
            for mode in modes {
                let table = mode.table
                let partition = try LakePartition(table: "gold/\(table)", ds: context.ds)
                let content = try context.lake.content(of: partition)
                guard let (data, format) = try LoadWarehouse.goldData(in: content, lake: context.lake),
                      let schemaFile = try context.lake.localPath(of: "_schema.json", in: content) else {
                    throw TransformError("\(name): \(partition) does not exist in the lake; run gold.sql first")
                }
                let partitioned = (try JSONFile.read(schemaFile)["materialized"] as? String) == "partition"
                let columns = try TableLoader.columns(schema: schemaFile, csv: data)
                let copy = format == .parquet ? try LoadWarehouse.csvCopy(of: data, table: table, columns: columns, context: context) : nil
                defer { if let copy { unlink(copy) } }
                let csv = copy ?? data
                let target = "\(quotedSchema).\(PostgresConnection.quote(table))"
                if mode.kind != nil {
                    let count = try merge(connection, csv: csv, columns: columns, schema: schema, mode: mode)
                    context.results.output("postgres \(schema).\(table)", rows: count)
                    context.log("load.postgres: \(schema).\(table) ← \(count) rows (\(LoadMode.describe(mode.kind)))")
                    continue
                }
                var definitions = columns.map { "\(PostgresConnection.quote($0.name)) \(Self.postgresType($0))" }
                if partitioned { definitions.insert("ds date NOT NULL", at: 0) }
                try connection.execute("CREATE TABLE IF NOT EXISTS \(target) (\(definitions.joined(separator: ", ")))")
                let columnList = columns.map { PostgresConnection.quote($0.name) }.joined(separator: ", ")
                if partitioned {
                    // The CSV has no ds column: COPY fills it from a default set for this transaction only.
                    _ = try connection.query("DELETE FROM \(target) WHERE ds = $1", [context.ds])
                    try connection.execute("ALTER TABLE \(target) ALTER COLUMN ds SET DEFAULT '\(context.ds)'")
                    try connection.copyIn("COPY \(target) (\(columnList)) FROM STDIN WITH (FORMAT csv, HEADER true)", from: csv)
                    try connection.execute("ALTER TABLE \(target) ALTER COLUMN ds DROP DEFAULT")
                } else {
                    try connection.execute("TRUNCATE \(target)")
                    try connection.copyIn("COPY \(target) (\(columnList)) FROM STDIN WITH (FORMAT csv, HEADER true)", from: csv)
                }
                let count = try connection.query("SELECT COUNT(*) FROM \(target)" + (partitioned ? " WHERE ds = $1" : ""), partitioned ? [context.ds] : [])
                context.results.output("postgres \(schema).\(table)", rows: count.first?.first.flatMap { $0 }.flatMap { Int($0) })
                context.log("load.postgres: \(schema).\(table) ← \(count.first?.first.flatMap { $0 } ?? "?") rows (\(partitioned ? "partition ds=\(context.ds)" : "full table"))")
            }
            try connection.execute("COMMIT")
        } catch {
            try? connection.execute("ROLLBACK")
            throw error as? TransformError ?? TransformError("\(error)")
        }
    }

    static func postgresType(_ column: TableLoader.Column) -> String {
        switch column.affinity {
        case "INTEGER": return "bigint"
        case "REAL": return "double precision"
        default: return "text"
        }
    }
}
