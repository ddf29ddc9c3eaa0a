import Foundation
import GRDB
import XCTest

/// movies_daily end to end against the TMDb stand-in (which requires a bearer token and injects 429s and 503s): the
/// star schema and its four views in the SQLite warehouse match values computed here from the stand-in's answers, three
/// days give one fact row per movie and day, a re-run of a day changes nothing, and the token reaches no file.
final class MoviesDailyTests: XCTestCase {
    static let token = "tmdb-sekrit-7f3a9c"
    static let days = ["2024-03-01", "2024-03-02", "2024-03-03"]
    /// 3 pages of 20 out of a catalog of 80: the daily ranking moves movies in and out of what the DAG fetches.
    static let pages = 3
    static let catalog = ["--movies", "80"]

    var standIn: MoviesStandIn?

    override func tearDown() { standIn?.stop() }

    /// A harness with the DAG copied from the repository (quicker rate limit, no task retries) and `tmdb` pointing at
    /// a fresh stand-in.
    static func harness(standIn: MoviesStandIn) throws -> Harness {
        let h = try Harness()
        let dags = ShopLakeTests.repository.appendingPathComponent("dags")
        try FileManager.default.copyItem(at: dags.appendingPathComponent("movies_daily"), to: h.dags.appendingPathComponent("movies_daily"))
        let text = try String(contentsOf: dags.appendingPathComponent("movies_daily.yaml"), encoding: .utf8)
            .replacingOccurrences(of: "retries: 2", with: "retries: 0")
            .replacingOccurrences(of: "requests_per_second: 20", with: "requests_per_second: 200")
        try h.writeDag("movies_daily", text)
        h.extraEnvironment["ORCHESTRATOR_CONN_TMDB"] = "http://\(token)@127.0.0.1:\(standIn.port)/3"
        return h
    }

    static func runDay(_ h: Harness, _ day: String) throws -> Harness.Result {
        let result = try h.run(["test", "movies_daily", "--date", day, "--param", "pages=\(pages)"])
        XCTAssertEqual(result.status, 0, "movies_daily \(day): " + result.stdout.suffix(3000) + result.stderr.suffix(2000))
        return result
    }

    func testStarSchemaAndViewsMatchTheStandInAcrossThreeDaysAndAReRunChangesNothing() throws {
        let standIn = try MoviesStandIn(token: Self.token, arguments: Self.catalog + ["--fail-every", "31", "--throttle-every", "37"])
        self.standIn = standIn
        let h = try Self.harness(standIn: standIn)
        var outputs = ""
        for day in Self.days { outputs += try Self.runDay(h, day).stdout }
        XCTAssertTrue(outputs.contains("HTTP 429; retry 1 of 5"), "a 429 was retried")
        XCTAssertTrue(outputs.contains("HTTP 503; retry 1 of 5"), "a 503 was retried")

        let expected = try MoviesExpectation(
            standIn: standIn, days: Self.days, pages: Self.pages,
            continentsCSV: try String(contentsOf: h.dags.appendingPathComponent("movies_daily/continents.csv"), encoding: .utf8))
        let warehouse = try DatabaseQueue(path: h.home.appendingPathComponent("warehouse.db").path)
        let query = { (sql: String) throws -> [[String?]] in try Self.sqliteRows(warehouse, sql) }
        try MoviesStarCheck.verify(query, expected, days: Self.days)

        // A re-run of a day that is not the latest changes no table.
        let before = try MoviesStarCheck.snapshot(query)
        _ = try Self.runDay(h, Self.days[1])
        XCTAssertEqual(try MoviesStarCheck.snapshot(query), before, "re-running \(Self.days[1]) changed the star schema")

        // Bronze keeps the request of each line, without credentials.
        let details = try String(contentsOfFile: h.home.appendingPathComponent("lake/bronze/tmdb/details/ds=\(Self.days[0])/records.jsonl").path, encoding: .utf8)
        XCTAssertTrue(details.contains("\"_request\":\"http://127.0.0.1:\(standIn.port)/3/movie/"), String(details.prefix(300)))

        // The token is in no log, lake file, store or warehouse byte.
        try Self.assertNoFile(under: h.root, contains: Self.token)
        XCTAssertFalse(outputs.contains(Self.token))

        // An applied migration that changed is refused; nothing is loaded that day.
        let views = h.dags.appendingPathComponent("movies_daily/migrations/003_views.sql")
        try (try String(contentsOf: views, encoding: .utf8) + "\n-- edited\n").write(to: views, atomically: true, encoding: .utf8)
        let edited = try h.run(["test", "movies_daily", "--date", "2024-03-04", "--param", "pages=1"])
        XCTAssertNotEqual(edited.status, 0)
        let log = try String(contentsOfFile: try Self.taskLog(edited, task: "migrate_warehouse", day: "2024-03-04"), encoding: .utf8)
        XCTAssertTrue(log.contains("003_views.sql was applied with SHA-256") && log.contains("has changed since"), log)
        XCTAssertEqual(try query("SELECT COUNT(*) FROM fact_movie_daily WHERE date_id = 20240304").first?.first ?? nil, "0")
    }

    static func taskLog(_ result: Harness.Result, task: String, day: String) throws -> String {
        let scratch = try XCTUnwrap(result.stdout.components(separatedBy: "logs in ").last?.components(separatedBy: "/logs").first)
        return "\(scratch)/logs/movies_daily/manual__\(day)T00:00:00Z/\(task)/attempt-1.log"
    }

    static func assertNoFile(under root: URL, contains secret: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let needle = Data(secret.utf8)
        let enumerator = FileManager.default.enumerator(at: root, includingPropertiesForKeys: [.isRegularFileKey])
        var checked = 0
        while let url = enumerator?.nextObject() as? URL {
            guard (try? url.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true,
                  let data = try? Data(contentsOf: url) else { continue }
            checked += 1
            XCTAssertNil(data.range(of: needle), "the token is in \(url.path)", file: file, line: line)
        }
        XCTAssertGreaterThan(checked, 10, file: file, line: line)
    }

    static func sqliteRows(_ db: DatabaseQueue, _ sql: String) throws -> [[String?]] {
        try db.read { db in
            try Row.fetchAll(db, sql: sql).map { row in
                row.databaseValues.map { value -> String? in
                    switch value.storage {
                    case .null: return nil
                    case .int64(let number): return String(number)
                    case .double(let number): return String(number)
                    case .string(let text): return text
                    case .blob: return "blob"
                    }
                }
            }
        }
    }
}
