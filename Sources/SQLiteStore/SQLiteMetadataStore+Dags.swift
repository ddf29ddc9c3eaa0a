import Foundation
import GRDB
import MetadataStore

/// DagStore on SQLite.
extension SQLiteMetadataStore {
    public func syncDags(_ dags: [(dagId: String, fileLocation: String)], importErrors: [String: String], at time: Date) throws {
        let now = time.timeIntervalSince1970
        try write("sync dags") { db in
            try Cached.execute(db, sql: "UPDATE dags SET is_active = 0")
            for dag in dags {
                try Cached.execute(db, sql: """
                    INSERT INTO dags (dag_id, is_paused, file_location, is_active, updated_at) VALUES (?, 0, ?, 1, ?)
                    ON CONFLICT(dag_id) DO UPDATE SET file_location = excluded.file_location, is_active = 1, updated_at = excluded.updated_at
                    """, arguments: [dag.dagId, dag.fileLocation, now])
            }
            try Cached.execute(db, sql: "DELETE FROM import_errors")
            for (file, message) in importErrors {
                try Cached.execute(db, sql: "INSERT INTO import_errors (file, message, updated_at) VALUES (?, ?, ?)", arguments: [file, message, now])
            }
        }
    }

    public func registerDag(dagId: String, fileLocation: String, at time: Date) throws {
        try write("register dag") { db in
            try Cached.execute(db, sql: """
                INSERT INTO dags (dag_id, is_paused, file_location, is_active, updated_at) VALUES (?, 0, ?, 1, ?)
                ON CONFLICT(dag_id) DO UPDATE SET file_location = excluded.file_location, is_active = 1
                """, arguments: [dagId, fileLocation, time.timeIntervalSince1970])
        }
    }

    public func dags() throws -> [DagRecord] {
        try read("list dags") { db in
            try Cached.rows(db, sql: "SELECT dag_id, is_paused, file_location FROM dags WHERE is_active = 1 ORDER BY dag_id").map {
                DagRecord(dagId: $0["dag_id"], isPaused: $0["is_paused"], fileLocation: $0["file_location"])
            }
        }
    }

    public func setPaused(dagId: String, paused: Bool) throws -> Bool {
        try write("pause dag") { db in
            try Cached.execute(db, sql: "UPDATE dags SET is_paused = ? WHERE dag_id = ?", arguments: [paused, dagId])
            return db.changesCount > 0
        }
    }

    public func importErrors() throws -> [String: String] {
        try read("list import errors") { db in
            Dictionary(try Cached.rows(db, sql: "SELECT file, message FROM import_errors").map { ($0["file"], $0["message"]) },
                       uniquingKeysWith: { a, _ in a })
        }
    }
}
