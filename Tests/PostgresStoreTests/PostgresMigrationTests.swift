import Foundation
import MetadataStore
import PostgresClient
@testable import PostgresStore
import XCTest

final class PostgresMigrationTests: XCTestCase {
    func testAnEmptySchemaGetsEveryMigrationOnceInOrder() throws {
        let database = try TestDatabase()
        _ = try PostgresMetadataStore(url: database.url)
        _ = try PostgresMetadataStore(url: database.url)
        let db = try database.connect()
        let names = try db.query("SELECT name FROM schema_migrations ORDER BY applied_order").map { $0.string(0) }
        XCTAssertEqual(names, ["v1", "v2-notification-outbox", "v3-sla-misses", "v4-nodes", "v5-node-addresses", "v6-dispatch-claims"])
        let tables = try db.query("""
            SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name
            """, [database.schema]).map { $0.string(0) ?? "" }
        XCTAssertEqual(tables, ["backfills", "dag_runs", "dags", "import_errors", "nodes", "notifications", "pools", "schema_migrations",
                                "sla_misses", "task_attempts", "task_instances"])
    }

    func testASchemaFromANewerBinaryIsRefusedInOneLineAndLeftAlone() throws {
        let database = try TestDatabase()
        _ = try PostgresMetadataStore(url: database.url)
        let db = try database.connect()
        try db.query("INSERT INTO schema_migrations (name, applied_order) VALUES ($1, $2)", ["v99-from-the-future", 99])
        XCTAssertThrowsError(try PostgresMetadataStore(url: database.url)) { error in
            XCTAssertEqual((error as? StoreError)?.kind, .schemaTooNew, "\(error)")
            XCTAssertTrue("\(error)".contains("v99-from-the-future"), "\(error)")
            XCTAssertTrue("\(error)".contains("upgrade orchestrator"), "\(error)")
            XCTAssertFalse("\(error)".contains("\n"))
        }
        XCTAssertEqual(try db.query("SELECT count(*) FROM schema_migrations").first?.int(0), 7)
    }

    func testWithoutMigratingAnOlderSchemaIsRefused() throws {
        let database = try TestDatabase()
        XCTAssertThrowsError(try PostgresMetadataStore(url: database.url, migrate: false)) { error in
            XCTAssertTrue("\(error)".contains("run orchestrator db migrate"), "\(error)")
        }
        XCTAssertEqual(try database.connect().query("SELECT to_regclass('dag_runs') IS NULL").first?.bool(0), true, "nothing was created")
    }

    func testAFailingMigrationLeavesTheSchemaAtTheLastWholeOne() throws {
        let database = try TestDatabase()
        var migrator = PostgresMigrator()
        migrator.registerMigration("one", sql: "CREATE TABLE a (x int)")
        migrator.registerMigration("two", sql: "CREATE TABLE b (x int); CREATE TABLE c (x no_such_type)")
        let db = try database.connect()
        XCTAssertThrowsError(try migrator.migrate(db))
        XCTAssertEqual(try migrator.status(db).applied, ["one"])
        XCTAssertEqual(try db.query("SELECT to_regclass('b') IS NULL").first?.bool(0), true, "half of 'two' is not left behind")
    }

    func testAnUnreachableServerIsUnavailableWithThePasswordMasked() {
        XCTAssertThrowsError(try PostgresMetadataStore(url: "postgres://ada:hunter2-secret@127.0.0.1:1/orchestrator")) { error in
            XCTAssertEqual((error as? StoreError)?.kind, .unavailable)
            XCTAssertFalse("\(error)".contains("hunter2-secret"), "\(error)")
            XCTAssertTrue("\(error)".hasPrefix("cannot open the store at postgres://ada:***@127.0.0.1:1/orchestrator: "), "\(error)")
        }
    }
}
