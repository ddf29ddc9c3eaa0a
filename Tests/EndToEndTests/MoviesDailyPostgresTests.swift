import Foundation
import XCTest

/// movies_daily into the PostgreSQL that scripts/test starts: the migrations create the schema `movies`, and the star
/// schema and views there match the stand-in's answers as on SQLite; a re-run of a day changes nothing.
final class MoviesDailyPostgresTests: PostgresTestCase {
    var standIn: MoviesStandIn?

    override func tearDownWithError() throws {
        standIn?.stop()
        try super.tearDownWithError()
    }

    func testStarSchemaInPostgresMatchesTheStandInAndAReRunChangesNothing() throws {
        let standIn = try MoviesStandIn(token: MoviesDailyTests.token, arguments: MoviesDailyTests.catalog + ["--fail-every", "53", "--throttle-every", "59"])
        self.standIn = standIn
        let h = try MoviesDailyTests.harness(standIn: standIn)
        h.extraEnvironment["ORCHESTRATOR_CONN_MOVIES_DB"] = databaseURL
        let days = Array(MoviesDailyTests.days.prefix(2))
        for day in days {
            let result = try MoviesDailyTests.runDay(h, day)
            XCTAssertTrue(result.stdout.contains("load.postgres: movies.fact_movie_daily ←"), String(result.stdout.suffix(2000)))
        }
        let expected = try MoviesExpectation(
            standIn: standIn, days: days, pages: MoviesDailyTests.pages,
            continentsCSV: try String(contentsOf: h.dags.appendingPathComponent("movies_daily/continents.csv"), encoding: .utf8))
        let query = { (sql: String) throws -> [[String?]] in try self.rows(sql) }
        try MoviesStarCheck.verify(query, expected, days: days)
        XCTAssertEqual(try rows("SELECT version, file FROM schema_migrations ORDER BY version").map { $0.compactMap { $0 } },
                       [["1", "001_schema.sql"], ["2", "002_indexes.sql"], ["3", "003_views.sql"]])
        let before = try MoviesStarCheck.snapshot(query)
        _ = try MoviesDailyTests.runDay(h, days[0])
        XCTAssertEqual(try MoviesStarCheck.snapshot(query), before, "re-running \(days[0]) changed the PostgreSQL star schema")
        try MoviesDailyTests.assertNoFile(under: h.root, contains: MoviesDailyTests.token)
        try MoviesDailyTests.assertNoFile(under: h.root, contains: "Sup3rSecretPw")
    }

    /// Rows of a query in the schema `movies`, as text (nil for NULL), through psql.
    func rows(_ sql: String) throws -> [[String?]] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/psql")
        process.arguments = [databaseURL, "-X", "-v", "ON_ERROR_STOP=1", "-tAq", "-F", "\u{1F}", "-P", "null=\u{1E}", "-c", sql]
        process.environment = ProcessInfo.processInfo.environment.merging(["PGOPTIONS": "-c search_path=movies"]) { $1 }
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0, sql)
        return String(decoding: data, as: UTF8.self).split(separator: "\n").map { line in
            line.split(separator: "\u{1F}", omittingEmptySubsequences: false).map { $0 == "\u{1E}" ? nil : String($0) }
        }
    }
}
