import Foundation

/// `extract.postgres`: streams tables out of PostgreSQL with `COPY (SELECT …) TO STDOUT` into bronze CSV.
/// Options: `connection` (name of a postgres:// connection), `source` (bronze folder name), `tables`: a list
/// of table names (full snapshot) or of maps `{ name, incremental_column, schema }`: an incremental table
/// keeps only rows whose column falls in the run's data interval [start, end).
/// Writes `bronze/<source>/<table>/ds=<ds>/<table>.csv` (with a header) and `_manifest.json` (rows, bytes,
/// the query), one atomic partition per table.
public enum ExtractPostgres: TransformOperation {
    public static let name = "extract.postgres"

    struct TableSpec {
        let name: String
        let schema: String
        let incrementalColumn: String?
    }

    public static func run(_ options: TransformOptions, _ context: TransformContext) throws(TransformError) {
        try options.allowOnly(["connection", "source", "tables"])
        let url = try context.connections.url(try options.string("connection"))
        let source = try options.string("source")
        try Naming.check(source, what: "source", operation: name)
        guard let list = try options.list("tables"), !list.isEmpty else { throw TransformError("\(name): option 'tables' needs at least one table") }
        var specs: [TableSpec] = []
        for item in list {
            if let table = item as? String {
                specs.append(TableSpec(name: table, schema: "public", incrementalColumn: nil))
            } else if let map = item as? [String: Any], let table = map["name"] as? String {
                for key in map.keys where !["name", "schema", "incremental_column"].contains(key) {
                    throw TransformError("\(name): table \(table): unknown option '\(key)' (name, schema, incremental_column)")
                }
                specs.append(TableSpec(name: table, schema: map["schema"] as? String ?? "public", incrementalColumn: map["incremental_column"] as? String))
            } else {
                throw TransformError("\(name): each of 'tables' is a name or a map with name and incremental_column")
            }
        }
        let connection = try PostgresConnection(url: url)
        let start = DateFields.isoUTC(epochSeconds: Int(context.dataIntervalStart.timeIntervalSince1970))
        let end = DateFields.isoUTC(epochSeconds: Int(context.dataIntervalEnd.timeIntervalSince1970))
        for spec in specs {
            try Naming.check(spec.name, what: "table", operation: name)
            try Naming.check(spec.schema, what: "schema", operation: name)
            var select = "SELECT * FROM \(PostgresConnection.quote(spec.schema)).\(PostgresConnection.quote(spec.name))"
            if let column = spec.incrementalColumn {
                try Naming.check(column, what: "incremental_column", operation: name)
                let quoted = PostgresConnection.quote(column)
                // Timestamps are compared in UTC; the interval is [start, end) as for the run itself.
                select += " WHERE \(quoted) >= '\(start)'::timestamptz AND \(quoted) < '\(end)'::timestamptz ORDER BY \(quoted)"
            }
            let partition = try LakePartition(table: "bronze/\(source)/\(spec.name)", ds: context.ds)
            let staging = try context.lake.stage(partition)
            do {
                let file = staging.path("\(spec.name).csv")
                let started = Date()
                let (bytes, records) = try connection.copyOut("COPY (\(select)) TO STDOUT WITH (FORMAT csv, HEADER true)", to: file)
                let rows = max(0, records - 1)  // the header
                try JSONFile.write([
                    "table": "\(spec.schema).\(spec.name)", "query": select, "rows": rows, "bytes": bytes, "ds": context.ds,
                    "mode": spec.incrementalColumn == nil ? "snapshot" : "incremental", "run_id": context.runId,
                ], to: staging.path("_manifest.json"))
                try context.lake.publish(staging)
                let mode = spec.incrementalColumn.map { "rows with \($0) in [\(start), \(end))" } ?? "snapshot"
                context.results.output(partition.path, rows: rows)
                context.log("extract.postgres: \(spec.schema).\(spec.name) (\(mode)) → \(partition): \(rows) rows, \(bytes) bytes in \(String(format: "%.2f", Date().timeIntervalSince(started)))s")
            } catch {
                context.lake.discard(staging)
                throw error as? TransformError ?? TransformError("\(error)")
            }
        }
    }
}
