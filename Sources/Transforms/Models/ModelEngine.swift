/// Where models are built: the warehouse (SQLite) or a connection (SQLite, PostgreSQL). The runner writes
/// portable SQL and asks the engine only for what differs: parameter syntax, transactions, catalog lookups,
/// bulk loading a CSV, and how to drop a relation that others may depend on.
protocol ModelEngine: AnyObject {
    /// `sqlite` or `postgres`: picks `<model>.<engine>.sql` variants.
    var engine: String { get }
    /// For messages (a path, or a URL with its password masked).
    var displayName: String { get }
    /// How the engine reads bound parameter `position` (1-based), as text.
    var placeholder: @Sendable (Int) -> String { get }

    /// One statement with bound text parameters (nil binds NULL).
    func execute(_ sql: String, _ parameters: [String?]) throws(TransformError)
    /// One statement's rows as text (nil for NULL), at most `limit` of them.
    func query(_ sql: String, _ parameters: [String?], limit: Int) throws(TransformError) -> (columns: [String], rows: [[String?]])
    /// Runs `body` in one transaction: all of it or nothing.
    func transaction(_ body: () throws(TransformError) -> Void) throws(TransformError)
    /// `table`, `view` or nil when no such relation exists.
    func relationKind(_ name: String) throws(TransformError) -> String?
    func columns(of table: String) throws(TransformError) -> [String]
    /// Drops a table or view; on PostgreSQL with CASCADE (dependent views go too: the runner rebuilds them).
    func drop(_ name: String, kind: String) throws(TransformError)
    /// Creates `table` (dropping any previous one) with typed columns, plus a leading `ds` text column when `ds` is given.
    func createTable(_ table: String, columns: [TableLoader.Column], withDS: Bool) throws(TransformError)
    /// Appends the rows of a CSV file (header first; empty fields are NULL) to `table`; returns the rows loaded.
    func load(csv: String, into table: String, columns: [TableLoader.Column], ds: String?) throws(TransformError) -> Int
    /// Publishes `relation`'s rows (those matching `filter`, a WHERE clause with its parameters) as the lake's
    /// gold partition of the run, in gold.sql's format (`GoldPartitionExport`); returns the rows written.
    func exportGold(_ relation: String, partitioned: Bool, filter: (sql: String, parameters: [String?])?,
                    context: TransformContext) throws(TransformError) -> Int
}

extension ModelEngine {
    func scalar(_ sql: String, _ parameters: [String?] = []) throws(TransformError) -> String? {
        try query(sql, parameters, limit: 1).rows.first?.first ?? nil
    }

    func count(_ relation: String) throws(TransformError) -> Int {
        Int(try scalar("SELECT COUNT(*) FROM \(TableLoader.quote(relation))") ?? "") ?? 0
    }
}
