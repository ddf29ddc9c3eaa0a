import Foundation
import PostgresClient
import XCTest

final class PostgresConnectionTests: XCTestCase {
    func testParametersAreBoundNotSpliced() throws {
        let db = try TestServer.connect()
        try db.execute("CREATE TEMP TABLE notes (id bigint, body text, score double precision)")
        let hostile = "x'); DROP TABLE notes; --"
        let inserted = try db.query("INSERT INTO notes VALUES ($1, $2, $3)", [1, hostile, 0.1 + 0.2])
        XCTAssertEqual(inserted.affectedRows, 1)
        try db.query("INSERT INTO notes VALUES ($1, $2, $3)", [2, nil, nil])
        let rows = try db.query("SELECT id, body, score FROM notes ORDER BY id")
        XCTAssertEqual(rows.count, 2)
        XCTAssertEqual(rows[0].int64(0), 1)
        XCTAssertEqual(rows[0].string(1), hostile)
        XCTAssertEqual(rows[0].double(2), 0.30000000000000004, "a double comes back bit for bit")
        XCTAssertNil(rows[1].string(1))
        XCTAssertNil(rows[1].double(2))
    }

    func testAStatementIsPreparedOnceAndReused() throws {
        let db = try TestServer.connect()
        for value in 1...5 { XCTAssertEqual(try db.query("SELECT $1::int + 1", [value]).first?.int(0), value + 1) }
        try db.query("SELECT $1::text", ["other"])
        let prepared = try db.query("SELECT count(*) FROM pg_prepared_statements WHERE name LIKE 'orchestrator_%'")
        // Two distinct statements, plus this one.
        XCTAssertEqual(prepared.first?.int(0), 3)
    }

    func testAStatementNameIsNeverReusedAfterOneIsForgotten() throws {
        let db = try TestServer.connect()
        try db.query("SELECT $1::int", [1])
        try db.query("SELECT $1::text", ["b"])
        // The server loses the first statement: its next use fails and the connection forgets it.
        try db.execute("DEALLOCATE ALL")
        try db.query("SELECT $1::text || 'c'", ["b"])
        XCTAssertThrowsError(try db.query("SELECT $1::int", [1]))
        // A new statement gets a fresh name, not the one still held by `SELECT $1::text || 'c'`.
        XCTAssertEqual(try db.query("SELECT $1::int + 2", [1]).first?.int(0), 3)
        XCTAssertEqual(try db.query("SELECT $1::text || 'c'", ["b"]).first?.string(0), "bc")
    }

    func testATransactionThatThrowsLeavesNothing() throws {
        let db = try TestServer.connect()
        try db.execute("CREATE TEMP TABLE items (name text PRIMARY KEY)")
        struct Abort: Error {}
        XCTAssertThrowsError(try db.transaction {
            try db.query("INSERT INTO items VALUES ($1)", ["a"])
            throw Abort()
        })
        XCTAssertFalse(db.isInTransaction)
        XCTAssertEqual(try db.query("SELECT count(*) FROM items").first?.int(0), 0)
        _ = try db.transaction { try db.query("INSERT INTO items VALUES ($1)", ["b"]) }
        XCTAssertEqual(try db.query("SELECT count(*) FROM items").first?.int(0), 1)
    }

    func testAUniqueViolationIsPermanentWithItsSQLState() throws {
        let db = try TestServer.connect()
        try db.execute("CREATE TEMP TABLE keys (k int PRIMARY KEY)")
        try db.query("INSERT INTO keys VALUES ($1)", [1])
        XCTAssertThrowsError(try db.query("INSERT INTO keys VALUES ($1)", [1])) { error in
            let error = error as? PostgresError
            XCTAssertEqual(error?.sqlState, "23505")
            XCTAssertEqual(error?.kind, .permanent)
            XCTAssertEqual(error?.operation, "INSERT INTO keys VALUES ($1)")
        }
    }

    func testALockNotAvailableIsARetryableConflict() throws {
        let first = try TestServer.connect()
        let second = try TestServer.connect()
        let table = "lock_test_\(UInt32.random(in: 0...UInt32.max))"
        try first.execute("CREATE TABLE \(table) (id int PRIMARY KEY); INSERT INTO \(table) VALUES (1)")
        defer { try? first.execute("DROP TABLE IF EXISTS \(table)") }
        try first.execute("BEGIN")
        try first.query("SELECT id FROM \(table) WHERE id = $1 FOR UPDATE", [1])
        XCTAssertThrowsError(try second.query("SELECT id FROM \(table) WHERE id = $1 FOR UPDATE NOWAIT", [1])) { error in
            XCTAssertEqual((error as? PostgresError)?.sqlState, "55P03")
            XCTAssertEqual((error as? PostgresError)?.kind, .retryableConflict)
        }
        try first.execute("ROLLBACK")
    }

    func testASerializationFailureIsARetryableConflict() throws {
        let first = try TestServer.connect()
        let second = try TestServer.connect()
        let table = "serial_test_\(UInt32.random(in: 0...UInt32.max))"
        try first.execute("CREATE TABLE \(table) (id int PRIMARY KEY, n int); INSERT INTO \(table) VALUES (1, 0)")
        defer { try? first.execute("DROP TABLE IF EXISTS \(table)") }
        try first.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
        try first.query("SELECT n FROM \(table) WHERE id = $1", [1])
        try second.query("UPDATE \(table) SET n = n + 1 WHERE id = $1", [1])
        XCTAssertThrowsError(try first.query("UPDATE \(table) SET n = n + 1 WHERE id = $1", [1])) { error in
            XCTAssertEqual((error as? PostgresError)?.sqlState, "40001")
            XCTAssertTrue((error as? PostgresError)?.isRetryable ?? false)
        }
        try first.execute("ROLLBACK")
    }

    func testAWrongPasswordIsBadCredentialsAndNeverShown() throws {
        let admin = try TestServer.connect()
        // scripts/test's server asks this one role (and no other) for its password.
        try admin.execute("""
            DO $$ BEGIN
              IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'orchestrator_password_test') THEN
                CREATE ROLE orchestrator_password_test LOGIN PASSWORD 'right-horse-battery';
              END IF;
            END $$
            """)
        XCTAssertNoThrow(try PostgresConnection(url: try TestServer.url(user: "orchestrator_password_test", password: "right-horse-battery")))
        let wrong = try TestServer.url(user: "orchestrator_password_test", password: "wrong-staple-77")
        XCTAssertThrowsError(try PostgresConnection(url: wrong)) { error in
            XCTAssertEqual((error as? PostgresError)?.kind, .badCredentials, "\(error)")
            XCTAssertFalse("\(error)".contains("wrong-staple-77"), "\(error)")
            XCTAssertTrue("\(error)".contains("orchestrator_password_test:***@"), "\(error)")
            XCTAssertFalse("\(error)".contains("\n"), "one line: \(error)")
        }
    }

    func testAClosedPortIsUnavailable() throws {
        XCTAssertThrowsError(try PostgresConnection(url: "postgres://u:hunter2@127.0.0.1:1/db")) { error in
            XCTAssertEqual((error as? PostgresError)?.kind, .unavailable, "\(error)")
            XCTAssertFalse("\(error)".contains("hunter2"))
            XCTAssertTrue("\(error)".hasPrefix("postgres://u:***@127.0.0.1:1/db: connect failed: "), "\(error)")
        }
    }
}
