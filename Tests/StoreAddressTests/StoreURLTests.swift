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

final class StoreURLPasswordTests: XCTestCase {
    func testAPasswordGivenAsAnOptionLeavesTheWorkersURLAndIsWhatLibpqGets() throws {
        let url = try StoreURL.parse("postgres://orch@db.internal/metadata?password=s3cret&sslmode=require&sslpassword=k3yphrase")
        XCTAssertEqual(url.password, "s3cret")
        XCTAssertEqual(url.sslPassword, "k3yphrase")
        XCTAssertEqual(url.withoutPassword, "postgres://orch@db.internal/metadata?sslmode=require")
        XCTAssertEqual("\(url)", "postgres://orch@db.internal/metadata?password=***&sslmode=require&sslpassword=***")
        XCTAssertEqual(try StoreURL.parse("postgres://orch@h/d?password=s3cret").withoutPassword, "postgres://orch@h/d")
    }

    func testAPercentEncodedPasswordKeyIsAPasswordToo() throws {
        let url = try StoreURL.parse("postgres://orch@h/d?%70assword=s3cret&sslmode=require&ssl%50ASSWORD=k3y")
        XCTAssertEqual(url.password, "s3cret")
        XCTAssertEqual(url.sslPassword, "k3y")
        XCTAssertEqual(url.withoutPassword, "postgres://orch@h/d?sslmode=require")
        XCTAssertFalse("\(url)".contains("s3cret") || "\(url)".contains("k3y"), "\(url)")
    }

    func testTheQueryPasswordWinsOverTheUserInfoOneAsInLibpq() throws {
        let url = try StoreURL.parse("postgres://orch:first@h/d?PASSWORD=second%21")
        XCTAssertEqual(url.password, "second!")
        XCTAssertEqual(url.withoutPassword, "postgres://orch@h/d")
        XCTAssertFalse("\(url)".contains("first") || "\(url)".contains("second"), "\(url)")
    }

    func testAPasswordMayHoldSlashQuestionMarkAtAndHash() throws {
        let url = try StoreURL.parse("postgres://orch:pa/ss?w@rd#x@db.internal:5433/meta?sslmode=require")
        XCTAssertEqual(url.user, "orch")
        XCTAssertEqual(url.password, "pa/ss?w@rd#x")
        XCTAssertEqual(url.host, "db.internal")
        XCTAssertEqual(url.port, 5433)
        XCTAssertEqual(url.database, "meta")
        XCTAssertEqual(url.withoutPassword, "postgres://orch@db.internal:5433/meta?sslmode=require")
        XCTAssertEqual("\(url)", "postgres://orch:***@db.internal:5433/meta?sslmode=require")
        // An '@' in an option's value is no user info.
        let plain = try StoreURL.parse("postgres://db.internal/meta?application_name=a@b")
        XCTAssertNil(plain.user)
        XCTAssertEqual(plain.host, "db.internal")
    }

    func testAnUnparsableURLDoesNotPrintAPasswordHoldingSlashOrQuestionMark() {
        for text in ["postgres://u:se/cret@h:99999/d", "postgres://u:se?cret@h:0/d", "postgres://u@h:x/d?password=se/cret"] {
            XCTAssertThrowsError(try StoreURL.parse(text), text) { error in
                XCTAssertTrue("\(error)".contains("not a port number"), "\(error)")
                XCTAssertFalse("\(error)".contains("cret"), "\(error)")
            }
        }
    }
}
