/// How load.warehouse and load.postgres write one table. A table named as plain text keeps the original behaviour
/// (a partitioned model replaces its `ds` rows, a full model the whole table); a map chooses a mode:
/// - `{ name: dim_movie, mode: upsert, key: [movie_id] }`: `INSERT … ON CONFLICT (key) DO UPDATE` (the latest row
///   wins), or with `on_conflict: nothing`, `DO NOTHING`; `replace_by: movie_id` first deletes the target's rows whose
///   `movie_id` is among the incoming ones (a movie's bridge rows replaced when its details change);
/// - `{ name: fact_movie_daily, mode: replace_partition, partition: date_id }`: deletes the target's rows whose
///   `date_id` is among the incoming ones, then inserts them.
/// Both need the target table to exist already, with a unique key for upserts (create it with sql.migrate).
struct LoadMode: Equatable {
    enum Kind: Equatable {
        case upsert(key: [String], update: Bool, replaceBy: String?)
        case replacePartition(column: String)
    }

    let table: String
    /// nil: the original replace behaviour.
    let kind: Kind?

    static func parse(_ options: TransformOptions, operation: String) throws(TransformError) -> [LoadMode] {
        // One table may be given as plain text, as before modes existed.
        let items: [Any]
        if let single = (try? options.optionalString("tables")).flatMap({ $0 }) {
            items = [single]
        } else {
            items = try options.list("tables") ?? []
        }
        guard !items.isEmpty else {
            throw TransformError("\(operation): option 'tables' needs at least one gold table")
        }
        var modes: [LoadMode] = []
        for (index, item) in items.enumerated() {
            let field = "\(operation): tables[\(index)]"
            if let name = item as? String {
                try Naming.check(name, what: "table", operation: operation)
                modes.append(LoadMode(table: name, kind: nil))
                continue
            }
            guard let map = item as? [String: Any], let name = map["name"] as? String else {
                throw TransformError("\(field) must be a table name or a map with 'name'")
            }
            try Naming.check(name, what: "table", operation: operation)
            for key in map.keys where !["name", "mode", "key", "on_conflict", "replace_by", "partition"].contains(key) {
                throw TransformError("\(field).\(key): unknown field (fields: name, mode, key, on_conflict, replace_by, partition)")
            }
            func column(_ value: Any?, _ what: String) throws(TransformError) -> String {
                guard let text = value as? String else { throw TransformError("\(field).\(what) must name a column") }
                try Naming.check(text, what: "\(what) column", operation: operation)
                return text
            }
            switch map["mode"] as? String {
            case "upsert":
                let keys = (map["key"] as? [Any])?.compactMap { $0 as? String } ?? (map["key"] as? String).map { [$0] } ?? []
                guard !keys.isEmpty else { throw TransformError("\(field).key: upsert needs the key columns") }
                for key in keys { _ = try column(key, "key") }
                let onConflict = map["on_conflict"] as? String ?? "update"
                guard onConflict == "update" || onConflict == "nothing" else {
                    throw TransformError("\(field).on_conflict: '\(onConflict)' is not update or nothing")
                }
                let replaceBy = try map["replace_by"].map { (value: Any) throws(TransformError) -> String in try column(value, "replace_by") }
                modes.append(LoadMode(table: name, kind: .upsert(key: keys, update: onConflict == "update", replaceBy: replaceBy)))
            case "replace_partition":
                modes.append(LoadMode(table: name, kind: .replacePartition(column: try column(map["partition"], "partition"))))
            case nil, "replace":
                modes.append(LoadMode(table: name, kind: nil))
            case let other?:
                throw TransformError("\(field).mode: '\(other)' is not upsert, replace_partition or replace")
            }
        }
        return modes
    }

    /// The columns the mode names (key, replace_by, partition) must be among the gold table's: in a subquery over the
    /// staged rows SQLite would read an unknown name as the target's own column, and the delete would take every row.
    func checkColumns(_ columns: [String], operation: String) throws(TransformError) {
        let named: [String]
        switch kind {
        case nil: return
        case .replacePartition(let column): named = [column]
        case .upsert(let key, _, let replaceBy): named = key + (replaceBy.map { [$0] } ?? [])
        }
        for column in named where !columns.contains(column) {
            throw TransformError("\(operation): tables \(table): the mode names column \(column), which the gold table does not have (it has \(columns.joined(separator: ", ")))")
        }
    }

    /// The statements that merge `staged` into `target` (`table` is the target's bare quoted name, for column
    /// references), in order. On PostgreSQL an upsert may touch a row once only, so one incoming row per key is kept,
    /// the last staged (SQLite applies the rows in order, so the last one wins anyway), and rows that would not change
    /// are not rewritten.
    func mergeStatements(target: String, table: String, staged: String, columns: [String], quote: (String) -> String,
                         postgres: Bool) -> [String] {
        let list = columns.map(quote).joined(separator: ", ")
        switch kind {
        case nil:
            return []
        case .replacePartition(let column):
            return ["DELETE FROM \(target) WHERE \(quote(column)) IN (SELECT incoming.\(quote(column)) FROM \(staged) AS incoming)",
                    "INSERT INTO \(target) (\(list)) SELECT \(list) FROM \(staged)"]
        case .upsert(let key, let update, let replaceBy):
            var statements: [String] = []
            if let replaceBy {
                // The rows of the incoming movies that the incoming rows no longer hold; the others stay as they are.
                let same = key.map { "incoming.\(quote($0)) = \(table).\(quote($0))" }.joined(separator: " AND ")
                statements.append("DELETE FROM \(target) WHERE \(quote(replaceBy)) IN (SELECT incoming.\(quote(replaceBy)) FROM \(staged) AS incoming)"
                                  + " AND NOT EXISTS (SELECT 1 FROM \(staged) AS incoming WHERE \(same))")
            }
            let others = columns.filter { !key.contains($0) }
            var action = "DO NOTHING"
            if update && !others.isEmpty {
                action = "DO UPDATE SET " + others.map { "\(quote($0)) = excluded.\(quote($0))" }.joined(separator: ", ")
                if postgres {
                    let current = others.map { "\(table).\(quote($0))" }.joined(separator: ", ")
                    let incoming = others.map { "excluded.\(quote($0))" }.joined(separator: ", ")
                    action += " WHERE (\(current)) IS DISTINCT FROM (\(incoming))"
                }
            }
            let keys = key.map(quote).joined(separator: ", ")
            // SQLite needs a WHERE to read ON CONFLICT after a SELECT as the upsert clause.
            let source = update && postgres
                ? "SELECT DISTINCT ON (\(keys)) \(list) FROM \(staged) ORDER BY \(keys), ctid DESC"
                : "SELECT \(list) FROM \(staged) WHERE true"
            statements.append("INSERT INTO \(target) (\(list)) \(source) ON CONFLICT (\(keys)) \(action)")
            return statements
        }
    }
}
