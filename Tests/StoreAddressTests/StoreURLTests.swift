import StoreAddress
import XCTest

final class StoreURLTests: XCTestCase {
    func testSqliteURLsAndBarePathsNameAFile() throws {
        XCTAssertEqual(try StoreURL.parse("sqlite:///var/lib/orchestrator/orchestrator.db").path, "/var/lib/orchestrator/orchestrator.db")
        XCTAssertEqual(try StoreURL.parse("/tmp/x.db"), StoreURL.sqlite(path: "/tmp/x.db"))
        XCTAssertEqual(try StoreURL.parse("SQLITE:///tmp/x.db").backend, .sqlite)
        XCTAssertEqual("\(StoreURL.sqlite(path: "/tmp/x.db"))", "sqlite:///tmp/x.db")
    }

    func testARelativeSqlitePathIsRefused() {
        XCTAssertThrowsError(try StoreURL.parse("sqlite://orchestrator.db")) { error in
            XCTAssertTrue("\(error)".contains("absolute path"), "\(error)")
        }
    }

    func testPostgresURLsAreSplitAndPrintedWithoutTheirPassword() throws {
        let url = try StoreURL.parse("postgres://orch:s3cr%40t@db.internal:6543/metadata?sslmode=require")
        XCTAssertEqual(url.backend, .postgres)
        XCTAssertEqual(url.user, "orch")
        XCTAssertEqual(url.host, "db.internal")
        XCTAssertEqual(url.port, 6543)
        XCTAssertEqual(url.database, "metadata")
        XCTAssertEqual(url.connectionString, "postgres://orch:s3cr%40t@db.internal:6543/metadata?sslmode=require")
        XCTAssertEqual("\(url)", "postgres://orch:***@db.internal:6543/metadata?sslmode=require")
        XCTAssertFalse("\(url)".contains("s3cr"))
        XCTAssertEqual(url.withoutPassword, "postgres://orch@db.internal:6543/metadata?sslmode=require")
        XCTAssertEqual(StoreURL.sqlite(path: "/tmp/x.db").withoutPassword, "sqlite:///tmp/x.db")

        let bare = try StoreURL.parse("postgresql://localhost/orch")
        XCTAssertEqual(bare.host, "localhost")
        XCTAssertNil(bare.port)
        XCTAssertNil(bare.user)
        XCTAssertEqual("\(bare)", "postgresql://localhost/orch")
        XCTAssertEqual(try StoreURL.parse("postgres://u@[::1]:5432/d").host, "[::1]")
    }

    func testBadURLsSayWhatIsWrongWithoutThePassword() {
        for (text, expected) in [("mysql://u:pw@h/d", "unknown store scheme 'mysql'"), ("postgres://u:pw@h:99999/d", "not a port number"),
                                 ("orchestrator.db", "not a store URL")] {
            XCTAssertThrowsError(try StoreURL.parse(text), text) { error in
                XCTAssertTrue("\(error)".contains(expected), "\(error)")
                XCTAssertFalse("\(error)".contains("pw"), "\(error)")
            }
        }
    }

    func testMaskingLeavesURLsWithoutAPasswordAlone() {
        XCTAssertEqual(StoreURL.masked("postgres://user@host/db"), "postgres://user@host/db")
        XCTAssertEqual(StoreURL.masked("postgres://user:pw@host/db"), "postgres://user:***@host/db")
        XCTAssertEqual(StoreURL.masked("/plain/path"), "/plain/path")
    }
}
