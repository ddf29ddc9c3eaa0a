import Foundation
import SQLiteDirect

/// `sql.migrate`: applies the versioned SQL files of a folder (`001_schema.sql`, `002_views.sql`, …) to the warehouse
/// (SQLite) or to a PostgreSQL schema, each once, in version order, all pending ones in one transaction. Applied
/// versions are recorded with their SHA-256 in `schema_migrations`; a recorded file that changed or disappeared, or a
/// new file older than the newest applied one, is an error (add a new migration instead). Options: `migrations` (the
/// folder, relative to the DAG's), `connection` (a `postgres://` or `sqlite://` connection; default the warehouse),
/// `schema` (PostgreSQL: created if missing and the files' search path; default `public`), `optional` (true: an
/// unconfigured connection is logged and skipped).
public enum SQLMigrate: TransformOperation {
    public static let name = "sql.migrate"
    static let maxFiles = 1_000
    static let maxFileBytes = 4 << 20

    struct Migration {
        let version: Int
        let file: String
        let sql: String
        let checksum: String
    }

    public static func run(_ options: TransformOptions, _ context: TransformContext) throws(TransformError) {
        try options.allowOnly(["migrations", "connection", "schema", "optional"])
        let folder = context.resolve(try options.string("migrations"))
        let url: String
        if let connection = try options.optionalString("connection") {
            if try options.bool("optional", default: false), context.connections.urls[connection.lowercased()] == nil {
                context.log("sql.migrate: connection '\(connection)' is not configured (ORCHESTRATOR_CONN_\(connection.uppercased())); nothing to migrate")
                return
            }
            url = try context.connections.url(connection)
        } else {
            url = context.warehouse
        }
        let migrations = try read(folder)
        let applied: [Migration]
        if url.hasPrefix("postgres://") || url.hasPrefix("postgresql://") {
            let schema = try options.optionalString("schema") ?? "public"
            try Naming.check(schema, what: "schema", operation: name)
            applied = try migratePostgres(url: url, schema: schema, migrations: migrations, folder: folder)
        } else if case .sqlite(let path) = try WarehouseLocation.parse(url, what: "\(name): target") {
            applied = try migrateSQLite(path: path, migrations: migrations, folder: folder)
        } else {
            throw TransformError("\(name): target \(Connections.redacted(url)) is DuckDB; sql.migrate applies to SQLite and PostgreSQL")
        }
        context.results.output("migrations applied", rows: applied.count)
        context.log("sql.migrate: \(applied.isEmpty ? "up to date" : "applied \(applied.map(\.file).joined(separator: ", "))") (\(migrations.count) migrations in \(folder))")
    }

    /// The folder's `NNN_name.sql` files, by version.
    static func read(_ folder: String) throws(TransformError) -> [Migration] {
        let names: [String]
        do { names = try FileManager.default.contentsOfDirectory(atPath: folder) } catch {
            throw TransformError("\(name): cannot read the migrations folder \(folder)")
        }
        var migrations: [Migration] = []
        for file in names.sorted() where file.hasSuffix(".sql") {
            let digits = file.prefix { $0.isASCII && $0.isNumber }
            guard !digits.isEmpty, digits.count <= 9, let version = Int(digits), file.dropFirst(digits.count).first == "_" else {
                throw TransformError("\(folder)/\(file): a migration is named NNN_description.sql (a version number first)")
            }
            if let other = migrations.first(where: { $0.version == version }) {
                throw TransformError("\(folder)/\(file): version \(version) is also \(other.file)")
            }
            let path = "\(folder)/\(file)"
            guard let attributes = try? FileManager.default.attributesOfItem(atPath: path), let size = attributes[.size] as? Int,
                  size <= maxFileBytes, let data = FileManager.default.contents(atPath: path) else {
                throw TransformError("\(path): cannot read it, or it is over \(maxFileBytes) bytes")
            }
            guard let sql = String(data: data, encoding: .utf8) else { throw TransformError("\(path): not UTF-8 text") }
            var hash = SHA256()
            hash.update(data)
            migrations.append(Migration(version: version, file: file, sql: sql, checksum: hash.finalize()))
            guard migrations.count <= maxFiles else { throw TransformError("\(folder): more than \(maxFiles) migrations") }
        }
        guard !migrations.isEmpty else { throw TransformError("\(name): \(folder) holds no NNN_description.sql file") }
        return migrations.sorted { $0.version < $1.version }
    }

    /// The migrations still to apply, after checking the recorded ones against the files.
    static func pending(_ migrations: [Migration], recorded: [(version: Int, file: String, checksum: String)], folder: String) throws(TransformError) -> [Migration] {
        for record in recorded {
            guard let migration = migrations.first(where: { $0.version == record.version }) else {
                throw TransformError("\(name): migration \(record.version) (\(record.file)) was applied but is no longer in \(folder); restore it")
            }
            guard migration.checksum == record.checksum else {
                throw TransformError("\(folder)/\(migration.file) was applied with SHA-256 \(record.checksum.prefix(12))… and has changed since (now \(migration.checksum.prefix(12))…): "
                                     + "restore it and put the change in a new migration")
            }
        }
        let newest = recorded.map(\.version).max() ?? Int.min
        let pending = migrations.filter { migration in !recorded.contains { $0.version == migration.version } }
        if let early = pending.first(where: { $0.version < newest }) {
            throw TransformError("\(folder)/\(early.file) is older than migration \(newest), which is applied already: give it a higher version")
        }
        return pending
    }

    static func migrateSQLite(path: String, migrations: [Migration], folder: String) throws(TransformError) -> [Migration] {
        let db = try TableLoader.openDatabase(path)
        return try sqlite("\(name) on \(path)") { () throws(SQLiteError) -> [Migration] in
            try db.transaction { () throws(SQLiteError) -> [Migration] in
                try db.execute("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, file TEXT NOT NULL, checksum TEXT NOT NULL, applied_at TEXT NOT NULL)")
                var recorded: [(version: Int, file: String, checksum: String)] = []
                for row in try db.prepare("SELECT version, file, checksum FROM schema_migrations ORDER BY version").allRows() {
                    recorded.append((Int(row[0] ?? "") ?? -1, row[1] ?? "", row[2] ?? ""))
                }
                let todo: [Migration]
                do throws(TransformError) { todo = try pending(migrations, recorded: recorded, folder: folder) } catch { throw SQLiteError(error.description) }
                for migration in todo {
                    do throws(SQLiteError) { try db.execute(migration.sql) } catch { throw SQLiteError("\(folder)/\(migration.file): \(error.description)") }
                    _ = try db.run("INSERT INTO schema_migrations (version, file, checksum, applied_at) VALUES (?, ?, ?, strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))",
                                   [.integer(migration.version), .text(migration.file), .text(migration.checksum)])
                }
                return todo
            }
        }
    }

    static func migratePostgres(url: String, schema: String, migrations: [Migration], folder: String) throws(TransformError) -> [Migration] {
        let connection = try PostgresConnection(url: url)
        let quoted = PostgresConnection.quote(schema)
        try connection.execute("BEGIN")
        do throws(TransformError) {
            try connection.execute("CREATE SCHEMA IF NOT EXISTS \(quoted)")
            // One migrator per schema at a time; the lock ends with the transaction.
            _ = try connection.query("SELECT pg_advisory_xact_lock(hashtext($1))", ["sql.migrate:\(schema)"])
            try connection.execute("SET LOCAL search_path TO \(quoted)")
            try connection.execute("CREATE TABLE IF NOT EXISTS \(quoted).schema_migrations (version integer PRIMARY KEY, file text NOT NULL, checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())")
            let recorded = try connection.query("SELECT version, file, checksum FROM \(quoted).schema_migrations ORDER BY version")
                .map { (version: Int($0[0] ?? "") ?? -1, file: $0[1] ?? "", checksum: $0[2] ?? "") }
            let todo = try pending(migrations, recorded: recorded, folder: folder)
            for migration in todo {
                do throws(TransformError) { try connection.execute(migration.sql) } catch { throw TransformError("\(folder)/\(migration.file): \(error.description)") }
                // A file's own COMMIT would end the one transaction (and the lock and search_path with it).
                guard connection.isInTransaction else {
                    throw TransformError("\(folder)/\(migration.file): the file ends the transaction itself (COMMIT, ROLLBACK or END); sql.migrate runs every pending file in one transaction, so remove them")
                }
                _ = try connection.query("INSERT INTO \(quoted).schema_migrations (version, file, checksum) VALUES ($1, $2, $3)",
                                         [String(migration.version), migration.file, migration.checksum])
            }
            try connection.execute("COMMIT")
            return todo
        } catch {
            try? connection.execute("ROLLBACK")
            throw error
        }
    }
}
