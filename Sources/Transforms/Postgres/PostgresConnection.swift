import Foundation
import PostgresClient

/// The transforms' PostgreSQL connection: the PostgresClient module's connection, with its errors as `TransformError`s
/// (the operations throw nothing else) and COPY out counting CSV records. Named like the client's type on purpose: inside
/// Transforms this one shadows it, so the operations did not change when the client moved out.
final class PostgresConnection {
    private let client: PostgresClient.PostgresConnection
    /// The URL with its password masked, for messages.
    var displayURL: String { client.url.description }

    init(url: String) throws(TransformError) {
        client = try Self.converting { () throws(PostgresError) in try PostgresClient.PostgresConnection(url: url) }
    }

    /// Runs SQL without parameters or results (several statements allowed).
    func execute(_ sql: String) throws(TransformError) {
        try Self.converting { () throws(PostgresError) in try client.execute(sql) }
    }

    /// Runs one statement with bound text parameters; returns the rows as text (nil for NULL).
    func query(_ sql: String, _ parameters: [String?] = []) throws(TransformError) -> [[String?]] {
        try Self.converting { () throws(PostgresError) in try client.query(sql, parameters).texts }
    }

    /// Streams `COPY … TO STDOUT` (CSV) into a file; returns the bytes written and the CSV records seen.
    func copyOut(_ sql: String, to path: String) throws(TransformError) -> (bytes: Int, records: Int) {
        var counter = CSVRecordCounter()
        let bytes = try Self.converting { () throws(PostgresError) in try client.copyOut(sql, to: path) { counter.feed($0) } }
        return (bytes, counter.records)
    }

    /// Streams a file into `COPY … FROM STDIN`.
    func copyIn(_ sql: String, from path: String) throws(TransformError) {
        try Self.converting { () throws(PostgresError) in try client.copyIn(sql, from: path) }
    }

    static func quote(_ identifier: String) -> String { PostgresClient.PostgresConnection.quote(identifier) }

    /// Whether a transaction is open (or failed and not yet rolled back) on this connection.
    var isInTransaction: Bool { client.isInTransaction }

    /// The column names of a query's result.
    func columnNames(_ sql: String, _ parameters: [String?] = []) throws(TransformError) -> [String] {
        try Self.converting { () throws(PostgresError) in
            let rows = try client.query(sql, parameters)
            return (0..<rows.columnCount).map { rows.columnName($0) }
        }
    }

    private static func converting<T>(_ body: () throws(PostgresError) -> T) throws(TransformError) -> T {
        do { return try body() } catch { throw TransformError("\(error)") }
    }
}
