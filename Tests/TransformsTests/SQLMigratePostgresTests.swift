import Foundation
@testable import Transforms
import XCTest

/// sql.migrate on PostgreSQL (the server scripts/test and targeted.sh start) runs every pending file in one
/// transaction: a file that commits by itself would end it, with its lock and search path, so it is refused.
final class SQLMigratePostgresTests: XCTestCase {
    func testAFileThatCommitsByItselfIsRefusedAndNotRecorded() throws {
        guard let url = ProcessInfo.processInfo.environment["ORCHESTRATOR_TEST_POSTGRES"] else {
            if ProcessInfo.processInfo.environment["ORCHESTRATOR_TEST_STRICT"] == "1" { XCTFail("ORCHESTRATOR_TEST_POSTGRES is not set") }
            throw XCTSkip("ORCHESTRATOR_TEST_POSTGRES is not set")
        }
        let folder = try TemporaryDirectory()
        try FileManager.default.createDirectory(atPath: folder.file("migrations"), withIntermediateDirectories: true)
        try folder.write("migrations/001_first.sql", "CREATE TABLE first_table (id integer);")
        try folder.write("migrations/002_commits.sql", "CREATE TABLE second_table (id integer);\nCOMMIT;\nCREATE TABLE third_table (id integer);")
        let schema = "migrate_\(UUID().uuidString.prefix(8).lowercased())"
        XCTAssertThrowsError(try SQLMigrate.migratePostgres(url: url, schema: schema, migrations: try SQLMigrate.read(folder.file("migrations")),
                                                            folder: "migrations")) { error in
            XCTAssertTrue("\(error)".contains("migrations/002_commits.sql: the file ends the transaction itself"), "\(error)")
        }
        // What the file's COMMIT made durable (the first file, and its version) cannot be taken back: the refusal is
        // what tells the operator; the refused file is not recorded, so once fixed it applies next time.
        let check = try PostgresConnection(url: url)
        let recorded = try check.query("SELECT count(*) FROM pg_tables WHERE schemaname = $1 AND tablename = 'schema_migrations'", [schema])
        if recorded.first?.first ?? nil == "1" {
            XCTAssertEqual(try check.query("SELECT count(*) FROM \(PostgresConnection.quote(schema)).schema_migrations WHERE version = 2").first?.first ?? nil, "0")
        }
        try check.execute("DROP SCHEMA IF EXISTS \(PostgresConnection.quote(schema)) CASCADE")
        try? check.execute("DROP TABLE IF EXISTS public.third_table, public.second_table, public.first_table")
    }
}
