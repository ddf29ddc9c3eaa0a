import Foundation
import GRDB
import MetadataStore

/// NodeStore on SQLite: the nodes are processes of this machine, so the store's clock is this machine's.
extension SQLiteMetadataStore {
    public func registerNode(_ node: NodeRecord) throws {
        try write("register node \(node.name)") { db in
            try Cached.execute(db, sql: """
                INSERT INTO nodes (name, started_at, last_heartbeat, version, pid, address) VALUES (?, ?, ?, ?, ?, ?)
                ON CONFLICT (name) DO UPDATE SET started_at = excluded.started_at, last_heartbeat = excluded.last_heartbeat,
                    version = excluded.version, pid = excluded.pid, address = excluded.address
                """, arguments: [node.name, node.startedAt.timeIntervalSince1970, node.lastHeartbeat.timeIntervalSince1970,
                                 node.version, node.pid, node.address])
        }
    }

    public func heartbeatNode(name: String, at time: Date) throws -> Date? {
        try write("heartbeat of node \(name)") { db in
            try Cached.execute(db, sql: "UPDATE nodes SET last_heartbeat = ? WHERE name = ?", arguments: [time.timeIntervalSince1970, name])
        }
        return nil
    }

    public func nodes() throws -> [NodeRecord] {
        try read("list nodes") { db in
            try Cached.rows(db, sql: "SELECT name, started_at, last_heartbeat, version, pid, address FROM nodes ORDER BY name").map { row in
                NodeRecord(name: row[0], startedAt: Date(timeIntervalSince1970: row[1]), lastHeartbeat: Date(timeIntervalSince1970: row[2]),
                           version: row[3], pid: row[4], address: row[5])
            }
        }
    }

    public func storeTime() throws -> Date? { nil }

    public func pruneNodes(silentBefore cutoff: Date) throws -> Int {
        try write("prune nodes") { db in
            try Cached.execute(db, sql: "DELETE FROM nodes WHERE last_heartbeat < ?", arguments: [cutoff.timeIntervalSince1970])
            return db.changesCount
        }
    }
}
