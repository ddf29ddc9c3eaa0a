import Foundation
import GRDB
import MetadataStore
import PostgresClient
import PostgresStore
import SQLiteStore

/// Moves a SQLite store's whole history into a PostgreSQL store: every table, in one transaction on the target (read
/// from one snapshot of the source), checked by counting before it commits. Values go across as they are: both stores
/// keep times as Unix seconds in doubles, so nothing is converted but SQLite's 0/1 flags into booleans.
struct SQLiteToPostgresCopy {
    /// Tables in foreign-key order, with their columns, and the order that keeps SQLite's insertion order.
    static let tables: [(name: String, columns: [String], order: String)] = [
        ("dags", ["dag_id", "is_paused", "file_location", "is_active", "updated_at"], "dag_id"),
        ("import_errors", ["file", "message", "updated_at"], "file"),
        ("backfills", ["id", "dag_id", "start", "end", "max_active_runs", "created_at"], "id"),
        ("dag_runs", ["dag_id", "run_id", "logical_date", "data_interval_start", "data_interval_end", "run_type", "state", "params",
                      "backfill_id", "created_at", "started_at", "ended_at"], "rowid"),
        ("task_instances", ["dag_id", "run_id", "task_id", "state", "try_number", "max_tries", "pool", "priority_weight", "next_retry_at",
                            "pid", "task_pid", "hostname", "heartbeat_at", "exit_code", "signal", "queued_at", "started_at", "ended_at",
                            "duration", "note"], "rowid"),
        ("task_attempts", ["dag_id", "run_id", "task_id", "try_number", "state", "hostname", "pid", "started_at", "ended_at", "exit_code",
                           "signal", "note"], "rowid"),
        ("pools", ["name", "slots"], "name"),
        ("notifications", ["id", "event_key", "target", "payload", "state", "attempts", "next_attempt_at", "last_error", "created_at",
                           "updated_at"], "id"),
        ("sla_misses", ["dag_id", "run_id", "task_id", "deadline", "detected_at"], "rowid"),
    ]
    /// Tables whose rows make a store "not empty" (a fresh one already has its default pool).
    static let historyTables = ["dag_runs", "task_instances", "task_attempts", "backfills", "notifications", "sla_misses"]

    let sourcePath: String
    let targetURL: String
    let force: Bool

    /// Copies; returns the rows copied per table.
    func run() throws -> [(table: String, rows: Int)] {
        // Opening through the store applies the source's own migrations first (and refuses one newer than this binary).
        _ = try SQLiteMetadataStore(path: sourcePath)
        _ = try PostgresMetadataStore(url: targetURL)
        let target = try PostgresConnection(url: targetURL)
        var configuration = GRDB.Configuration()
        configuration.readonly = true
        let queue = try DatabaseQueue(path: sourcePath, configuration: configuration)
        return try queue.read { sqlite in
            try target.transaction {
                try prepareTarget(target)
                var copied: [(table: String, rows: Int)] = []
                for table in Self.tables {
                    let rows = try copy(table, from: sqlite, to: target)
                    let landed = try target.query("SELECT count(*) FROM \(PostgresConnection.quote(table.name))").first?.int(0) ?? -1
                    guard landed == rows else {
                        throw CLIError("copy to \(target.url): \(table.name) has \(landed) rows after copying \(rows); nothing was committed")
                    }
                    copied.append((table.name, rows))
                }
                // Ids were copied as they were: the next ones follow the largest.
                for table in ["backfills", "notifications"] {
                    try target.query("SELECT setval(pg_get_serial_sequence($1, 'id'), GREATEST((SELECT MAX(id) FROM \(table)), 1), "
                                     + "(SELECT MAX(id) FROM \(table)) IS NOT NULL)", [table])
                }
                return copied
            }
        }
    }

    private func prepareTarget(_ target: PostgresConnection) throws {
        // No one else writes a history while it is being replaced.
        try target.execute("LOCK TABLE \(Self.tables.map(\.name).joined(separator: ", ")) IN EXCLUSIVE MODE")
        var nonEmpty: [String] = []
        for table in Self.historyTables where (try target.query("SELECT EXISTS (SELECT 1 FROM \(table))").first?.bool(0)) == true {
            nonEmpty.append(table)
        }
        if !nonEmpty.isEmpty, !force {
            throw CLIError("copy to \(target.url): the target already holds a history (\(nonEmpty.joined(separator: ", ")) not empty); "
                           + "pass --force to replace it")
        }
        try target.execute("TRUNCATE \(Self.tables.map(\.name).joined(separator: ", ")) RESTART IDENTITY CASCADE")
    }

    private func copy(_ table: (name: String, columns: [String], order: String), from sqlite: Database,
                      to target: PostgresConnection) throws -> Int {
        let sourceColumns = table.columns.map { "\"\($0)\"" }.joined(separator: ", ")
        let placeholders = table.columns.indices.map { "$\($0 + 1)" }.joined(separator: ", ")
        let insert = "INSERT INTO \(table.name) (\(sourceColumns)) "
            + (table.columns.contains("id") ? "OVERRIDING SYSTEM VALUE " : "") + "VALUES (\(placeholders))"
        let booleans: Set<String> = table.name == "dags" ? ["is_paused", "is_active"] : []
        var count = 0
        let rows = try Row.fetchCursor(sqlite, sql: "SELECT \(sourceColumns) FROM \(table.name) ORDER BY \(table.order)")
        while let row = try rows.next() {
            let values: [PostgresValue?] = table.columns.indices.map { index in
                Self.value(row[index] as DatabaseValue, boolean: booleans.contains(table.columns[index]))
            }
            try target.query(insert, values)
            count += 1
        }
        return count
    }

    static func value(_ value: DatabaseValue, boolean: Bool) -> PostgresValue? {
        switch value.storage {
        case .null: return nil
        case .int64(let number): return boolean ? (number != 0) : number
        case .double(let number): return number
        case .string(let text): return text
        case .blob(let data): return String(decoding: data, as: UTF8.self)
        }
    }
}
