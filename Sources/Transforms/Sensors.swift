import Foundation
import SQLiteDirect

/// The checks behind SQL sensors: whether a query returns at least one row, on PostgreSQL or SQLite.
public enum Sensors {
    public static func queryReturnsRow(connectionURL url: String, query: String) throws(TransformError) -> Bool {
        if url.hasPrefix("postgres://") || url.hasPrefix("postgresql://") {
            let connection = try PostgresConnection(url: url)
            return !(try connection.query(query)).isEmpty
        }
        if url.hasPrefix("sqlite://") {
            let path = String(url.dropFirst("sqlite://".count))
            return try sqlite("sensor query on \(path)") { () throws(SQLiteError) -> Bool in
                let db = try SQLiteDatabase(path: path)
                return try db.prepare(query).step()
            }
        }
        throw TransformError("sensor: connection \(Connections.redacted(url)) is neither postgres:// nor sqlite://")
    }
}
