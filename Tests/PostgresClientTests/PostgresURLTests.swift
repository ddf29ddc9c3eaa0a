import PostgresClient
import XCTest

final class PostgresURLTests: XCTestCase {
    func testReadsEveryPartAndMasksThePassword() throws {
        let url = try PostgresURL("postgres://ada:s3cr%40t@db.example:6543/orchestrator?sslmode=require&connect_timeout=3")
        XCTAssertEqual(url.user, "ada")
        XCTAssertEqual(url.password, "s3cr@t", "percent-decoded")
        XCTAssertEqual(url.host, "db.example")
        XCTAssertEqual(url.port, 6543)
        XCTAssertEqual(url.database, "orchestrator")
        XCTAssertEqual(url.option("sslmode"), "require")
        XCTAssertEqual(url.option("connect_timeout"), "3")
        XCTAssertEqual(url.description, "postgres://ada:***@db.example:6543/orchestrator?sslmode=require&connect_timeout=3")
    }

    func testAPasswordHoldingAtAndSlashEndsAtTheLastAt() throws {
        let url = try PostgresURL("postgresql://u:p/a@ss@host/db")
        XCTAssertEqual(url.host, "host")
        XCTAssertEqual(url.port, 5432)
        XCTAssertEqual(url.database, "db")
        XCTAssertFalse(url.description.contains("p/a@ss"), url.description)
    }

    func testIPv6HostWithPort() throws {
        let url = try PostgresURL("postgres://u@[::1]:5433/db")
        XCTAssertEqual(url.host, "::1")
        XCTAssertEqual(url.port, 5433)
    }

    func testABadPortIsOneLineWithoutThePassword() {
        XCTAssertThrowsError(try PostgresURL("postgres://u:hunter2@host:99999/db")) { error in
            XCTAssertEqual("\(error)", "postgres://u:***@host:99999/db: parse the URL failed: port '99999' is not a number from 1 to 65535")
            XCTAssertEqual((error as? PostgresError)?.kind, .permanent)
        }
    }

    func testAnotherSchemeIsRefused() {
        XCTAssertThrowsError(try PostgresURL("mysql://u:hunter2@host/db")) { error in
            XCTAssertFalse("\(error)".contains("hunter2"))
            XCTAssertTrue("\(error)".contains("not a postgres://"), "\(error)")
        }
    }

    func testSQLStatesMapToKinds() {
        XCTAssertEqual(PostgresError.kind(sqlState: "40001"), .retryableConflict)
        XCTAssertEqual(PostgresError.kind(sqlState: "40P01"), .retryableConflict)
        XCTAssertEqual(PostgresError.kind(sqlState: "55P03"), .retryableConflict)
        XCTAssertEqual(PostgresError.kind(sqlState: "08006"), .unavailable)
        XCTAssertEqual(PostgresError.kind(sqlState: "08001"), .unavailable)
        XCTAssertEqual(PostgresError.kind(sqlState: "28P01"), .badCredentials)
        XCTAssertEqual(PostgresError.kind(sqlState: "28000"), .badCredentials)
        XCTAssertEqual(PostgresError.kind(sqlState: "23505"), .permanent)
        XCTAssertEqual(PostgresError.kind(sqlState: "42P01"), .permanent)
        XCTAssertEqual(PostgresError.kind(sqlState: nil), .permanent)
    }
}
