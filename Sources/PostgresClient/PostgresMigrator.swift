/// Versioned schema changes, applied in order, each in its own transaction together with its row in
/// `schema_migrations`, so a failure leaves the schema at the last whole migration. Like GRDB's `DatabaseMigrator`:
/// register migrations once, never edit a released one, add a new one for every change.
public struct PostgresMigrator: Sendable {
    public struct Migration: Sendable {
        public let name: String
        public let sql: String
    }

    /// Where a schema stands against this binary's migrations.
    public struct Status: Sendable, Equatable {
        public var applied: [String]
        /// This binary's migrations not yet applied, in order.
        public var pending: [String]
        /// Applied migrations this binary does not know: a newer binary migrated the schema.
        public var unknown: [String]

        public var isCurrent: Bool { pending.isEmpty && unknown.isEmpty }
        public var isTooNew: Bool { !unknown.isEmpty }
    }

    public private(set) var migrations: [Migration] = []

    /// Serializes migrators of every process on one database (`pg_advisory_xact_lock` key).
    static let lockKey: Int64 = 0x6f72_6368_6d69_6772  // "orchmigr"

    public init() {}

    /// Adds a migration after the others; names must be unique.
    public mutating func registerMigration(_ name: String, sql: String) {
        precondition(!migrations.contains { $0.name == name }, "migration \(name) registered twice")
        migrations.append(Migration(name: name, sql: sql))
    }

    /// Reads which migrations a schema has (none, and no table, for an empty schema); changes nothing.
    public func status(_ db: PostgresConnection) throws(PostgresError) -> Status {
        let exists = try db.query("SELECT to_regclass('schema_migrations') IS NOT NULL").first?.bool(0) ?? false
        let applied = exists ? try db.query("SELECT name FROM schema_migrations ORDER BY applied_order").compactMap { $0.string(0) } : []
        let known = Set(migrations.map(\.name))
        return Status(applied: applied, pending: migrations.map(\.name).filter { !applied.contains($0) },
                      unknown: applied.filter { !known.contains($0) })
    }

    /// Applies the pending migrations; refuses, before changing anything, a schema that a newer binary migrated.
    /// Returns the names applied now.
    @discardableResult
    public func migrate(_ db: PostgresConnection) throws(PostgresError) -> [String] {
        var appliedNow: [String] = []
        for migration in migrations {
            let applied = try inTransaction(db) { () throws(PostgresError) -> Bool in
                // One migrator at a time per database: another process may be migrating the same schema right now.
                try db.query("SELECT pg_advisory_xact_lock($1)", [Self.lockKey])
                try db.execute("""
                    CREATE TABLE IF NOT EXISTS schema_migrations (
                        name text PRIMARY KEY,
                        applied_order integer NOT NULL UNIQUE,
                        applied_at double precision NOT NULL DEFAULT extract(epoch FROM now())
                    )
                    """)
                let status = try self.status(db)
                if status.isTooNew { throw tooNew(db, status) }
                guard status.pending.contains(migration.name) else { return false }
                try db.execute(migration.sql)
                try db.query("INSERT INTO schema_migrations (name, applied_order) VALUES ($1, $2)", [migration.name, status.applied.count + 1])
                return true
            }
            if applied { appliedNow.append(migration.name) }
        }
        return appliedNow
    }

    /// The one line for a schema migrated by a newer binary.
    public func tooNew(_ db: PostgresConnection, _ status: Status) -> PostgresError {
        PostgresError(kind: .permanent, url: db.url.description, operation: "migrate",
                      message: "the schema is newer than this binary (it has \(status.unknown.joined(separator: ", ")), "
                        + "this binary knows up to \(migrations.last?.name ?? "none")); upgrade orchestrator")
    }

    private func inTransaction<T>(_ db: PostgresConnection, _ body: () throws(PostgresError) -> T) throws(PostgresError) -> T {
        try db.execute("BEGIN")
        do {
            let value = try body()
            try db.execute("COMMIT")
            return value
        } catch {
            if db.isConnected { try? db.execute("ROLLBACK") }
            throw error
        }
    }
}
