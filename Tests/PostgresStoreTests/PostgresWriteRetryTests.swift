import Foundation
import MetadataStore
import PostgresClient
@testable import PostgresStore
import XCTest

/// When the connection is lost, a write runs again only if nothing of it reached the server.
final class PostgresWriteRetryTests: XCTestCase {
    func testAWriteLostWhileRunningIsNotRunAgain() throws {
        let db = try TestDatabase()
        let store = try PostgresMetadataStore(url: db.url)
        for singleStatement in [true, false] {
            var runs = 0
            XCTAssertThrowsError(try store.write("end its own session", singleStatement: singleStatement) { connection throws(PostgresError) in
                runs += 1
                try connection.execute("SELECT pg_terminate_backend(pg_backend_pid())")
            }) { error in
                XCTAssertEqual((error as? StoreError)?.kind, .unavailable, "\(error)")
                XCTAssertTrue("\(error)".contains("may or may not have been committed"), "\(error)")
            }
            XCTAssertEqual(runs, 1, "singleStatement: \(singleStatement)")
        }
    }

    func testASessionTheServerEndedWhileIdleIsReopenedAndTheWriteRunsOnce() throws {
        let db = try TestDatabase()
        let store = try PostgresMetadataStore(url: db.url)
        let backend = try XCTUnwrap(try store.read("its pid") { connection throws(PostgresError) in
            try connection.query("SELECT pg_backend_pid()").first?.int(0)
        })
        XCTAssertEqual(try db.connect().query("SELECT pg_terminate_backend($1)", [backend]).first?.bool(0), true)
        usleep(200_000)
        for singleStatement in [true, false] {
            var runs = 0
            let answer = try store.write("after the server ended the session", singleStatement: singleStatement) { connection throws(PostgresError) in
                runs += 1
                return try connection.query("SELECT 41 + 1").first?.int(0)
            }
            XCTAssertEqual(answer, 42)
            XCTAssertEqual(runs, 1)
        }
    }
}
