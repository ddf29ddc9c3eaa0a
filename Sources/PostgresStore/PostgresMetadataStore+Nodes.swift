import Foundation
import MetadataStore
import PostgresClient

/// NodeStore on PostgreSQL. The server's clock is the one every node's is compared with.
extension PostgresMetadataStore {
    public func registerNode(_ node: NodeRecord) throws {
        try write("register node \(node.name)", singleStatement: true) { db throws(PostgresError) in
            try db.query("""
                INSERT INTO nodes (name, started_at, last_heartbeat, version, pid, address)
                VALUES ($1, $2, extract(epoch from clock_timestamp()), $3, $4, $5)
                ON CONFLICT (name) DO UPDATE SET started_at = excluded.started_at, last_heartbeat = excluded.last_heartbeat,
                    version = excluded.version, pid = excluded.pid, address = excluded.address
                """, [node.name, node.startedAt.timeIntervalSince1970, node.version, node.pid, node.address])
        }
    }

    public func heartbeatNode(name: String, at time: Date) throws -> Date? {
        try write("heartbeat of node \(name)", singleStatement: true) { db throws(PostgresError) in
            // clock_timestamp(), not now(): now() is when the transaction began, this is the moment it is read. The
            // node's own time is not written: it is only compared with the store's, by the caller.
            try db.query("""
                WITH beat AS (UPDATE nodes SET last_heartbeat = extract(epoch from clock_timestamp()) WHERE name = $1)
                SELECT extract(epoch from clock_timestamp())::double precision
                """, [name]).first?.double(0).map(Date.init(timeIntervalSince1970:))
        }
    }

    public func nodes() throws -> [NodeRecord] {
        try read("list nodes") { db throws(PostgresError) in
            try db.query("SELECT name, started_at, last_heartbeat, version, pid, address FROM nodes ORDER BY name").map { row in
                NodeRecord(name: row.string(0) ?? "", startedAt: Date(timeIntervalSince1970: row.double(1) ?? 0),
                           lastHeartbeat: Date(timeIntervalSince1970: row.double(2) ?? 0), version: row.string(3) ?? "",
                           pid: Int32(truncatingIfNeeded: row.int(4) ?? 0), address: row.string(5))
            }
        }
    }

    public func storeTime() throws -> Date? {
        try read("read the store's clock") { db throws(PostgresError) in
            try db.query("SELECT extract(epoch from clock_timestamp())::double precision").first?.double(0).map(Date.init(timeIntervalSince1970:))
        }
    }

    public func pruneNodes(silentBefore cutoff: Date) throws -> Int {
        try write("prune nodes", singleStatement: true) { db throws(PostgresError) in
            try db.query("DELETE FROM nodes WHERE last_heartbeat < $1", [cutoff.timeIntervalSince1970]).affectedRows
        }
    }
}
