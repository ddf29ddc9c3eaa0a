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

    func testAWrongTokenFailsTheExtractWithAReasonAndNoTokenInTheLog() throws {
        let standIn = try MoviesStandIn(token: Self.token)
        self.standIn = standIn
        let h = try Self.harness(standIn: standIn)
        h.extraEnvironment["ORCHESTRATOR_CONN_TMDB"] = "http://wrong-token-123@127.0.0.1:\(standIn.port)/3"
        let result = try h.run(["test", "movies_daily", "--date", "2024-03-01"])
        XCTAssertNotEqual(result.status, 0)
        let log = try String(contentsOfFile: try Self.taskLog(result, task: "discover", day: "2024-03-01"), encoding: .utf8)
        XCTAssertTrue(log.contains("failed: HTTP 401 (the token is missing or refused: check the connection)"), log)
        XCTAssertFalse(log.contains("wrong-token-123") || result.stdout.contains("wrong-token-123"))
    }

    func testWithoutTheConnectionTheDAGCallsItsBaseURLWithNoToken() throws {
        let standIn = try MoviesStandIn(token: nil, arguments: Self.catalog)
        self.standIn = standIn
        let h = try Self.harness(standIn: standIn)
        h.extraEnvironment["ORCHESTRATOR_CONN_TMDB"] = nil
        let result = try h.run(["test", "movies_daily", "--date", "2024-03-01", "--param", "pages=1", "--param", "base_url=\(standIn.baseURL)"])
        XCTAssertEqual(result.status, 0, String(result.stdout.suffix(3000)))
        XCTAssertTrue(result.stdout.contains("extract.http: \(standIn.baseURL)/discover/movie"), String(result.stdout.suffix(3000)))
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

/// The checks shared by the SQLite and PostgreSQL runs: tables read as text rows through `query`.
enum MoviesStarCheck {
    static let tables = ["dim_movie", "dim_genre", "dim_company", "dim_country", "dim_language", "dim_date", "bridge_movie_genre",
                         "bridge_movie_company", "bridge_movie_country", "bridge_movie_language", "fact_movie_daily"]

    /// Every table's rows, sorted, for before/after comparisons.
    static func snapshot(_ query: (String) throws -> [[String?]]) throws -> [String: [String]] {
        var tablesRows: [String: [String]] = [:]
        for table in tables {
            tablesRows[table] = try query("SELECT * FROM \(table)").map { $0.map { $0 ?? "NULL" }.joined(separator: "|") }.sorted()
        }
        return tablesRows
    }

    static func number(_ text: String??) -> Double { Double((text ?? nil) ?? "") ?? .nan }

    static func verify(_ query: (String) throws -> [[String?]], _ expected: MoviesExpectation, days: [String],
                       file: StaticString = #filePath, line: UInt = #line) throws {
        // Dimensions: the latest details win.
        var movies: [Int: [String?]] = [:]
        for row in try query("SELECT movie_id, title, release_date, runtime, budget, revenue, original_language FROM dim_movie") {
            movies[Int(row[0] ?? "") ?? -1] = Array(row.dropFirst())
        }
        XCTAssertEqual(movies, expected.movies, "dim_movie", file: file, line: line)
        XCTAssertTrue(movies.values.contains { $0[0]?.hasSuffix("(Director's Cut)") == true }, "a title that details changed", file: file, line: line)
        XCTAssertTrue(movies.values.contains { $0[1] == nil }, "a movie without a release date", file: file, line: line)
        let genres = try query("SELECT genre_id, name FROM dim_genre").map { "\($0[0] ?? "")|\($0[1] ?? "")" }
        XCTAssertEqual(Set(genres), Set(expected.genres.map { "\($0.key)|\($0.value)" }), "dim_genre", file: file, line: line)
        func dimension(_ sql: String) throws -> [String: [String?]] {
            var rows: [String: [String?]] = [:]
            for row in try query(sql) { rows[row[0] ?? ""] = Array(row.dropFirst()) }
            return rows
        }
        let companies = try dimension("SELECT company_id, name, origin_country FROM dim_company")
        XCTAssertEqual(companies, expected.dimension("production_companies", key: "id", fields: ["name", "origin_country"]), "dim_company", file: file, line: line)
        XCTAssertTrue(companies.values.contains { $0[1] == nil }, "a company with no origin country", file: file, line: line)
        var countries = expected.dimension("production_countries", key: "iso_3166_1", fields: ["name"])
        for (code, row) in countries { countries[code] = row + [expected.continents[code]] }
        XCTAssertEqual(try dimension("SELECT iso_3166_1, name, continent FROM dim_country"), countries, "dim_country", file: file, line: line)
        let languages = try dimension("SELECT iso_639_1, english_name FROM dim_language")
        XCTAssertEqual(languages, expected.dimension("spoken_languages", key: "iso_639_1", fields: ["english_name"]), "dim_language", file: file, line: line)
        XCTAssertEqual(languages["xx"]?.first ?? nil, "No Language", file: file, line: line)

        var calendar = Calendar(identifier: .iso8601)
        calendar.timeZone = TimeZone(secondsFromGMT: 0)!
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withFullDate]
        let wantedDates = days.map { day -> String in
            let date = formatter.date(from: day)!
            let parts = calendar.dateComponents([.year, .month, .day, .weekday], from: date)
            let isoWeekday = (parts.weekday! + 5) % 7 + 1
            return "\(day.replacingOccurrences(of: "-", with: ""))|\(day)|\(parts.year!)|\(parts.month!)|\(parts.day!)|\(isoWeekday)"
        }
        let dates = try query("SELECT date_id, date, year, month, day, iso_weekday FROM dim_date").map { $0.map { $0 ?? "" }.joined(separator: "|") }
        XCTAssertEqual(Set(dates), Set(wantedDates), "dim_date", file: file, line: line)

        // Bridges.
        for (table, list, key, column) in [("bridge_movie_genre", "genres", "id", "genre_id"), ("bridge_movie_company", "production_companies", "id", "company_id"),
                                           ("bridge_movie_country", "production_countries", "iso_3166_1", "iso_3166_1"),
                                           ("bridge_movie_language", "spoken_languages", "iso_639_1", "iso_639_1")] {
            let rows = try query("SELECT movie_id, \(column) FROM \(table)").map { "\($0[0] ?? "")|\($0[1] ?? "")" }
            XCTAssertEqual(rows.count, Set(rows).count, table, file: file, line: line)
            XCTAssertEqual(Set(rows), expected.bridge(list, key: key), table, file: file, line: line)
        }
        XCTAssertTrue(expected.details.values.contains { ($0["genres"] as? [Any])?.isEmpty == true }, "a movie with no genres", file: file, line: line)

        // The fact: one row per movie and day it was discovered, with that day's scores.
        var facts: [Int: [Int: MoviesExpectation.Fact]] = [:]
        for row in try query("SELECT date_id, movie_id, popularity, vote_average, vote_count FROM fact_movie_daily") {
            let date = Int(row[0] ?? "") ?? -1, movie = Int(row[1] ?? "") ?? -1
            XCTAssertNil(facts[date]?[movie], "two fact rows for \(date) \(movie)", file: file, line: line)
            facts[date, default: [:]][movie] = .init(popularity: number(row[2]), voteAverage: number(row[3]), voteCount: Int(row[4] ?? "") ?? -1)
        }
        XCTAssertEqual(facts, expected.facts, "fact_movie_daily", file: file, line: line)
        XCTAssertEqual(facts.count, days.count, file: file, line: line)
        let everyDay = Set(expected.facts.values.map { Set($0.keys) }.reduce(Set(expected.details.keys)) { $0.intersection($1) })
        let perMovie = try query("SELECT movie_id, COUNT(*) FROM fact_movie_daily GROUP BY movie_id")
        for row in perMovie where everyDay.contains(Int(row[0] ?? "") ?? -1) {
            XCTAssertEqual(row[1] ?? nil, String(days.count), "movie \(row[0] ?? "") was discovered every day", file: file, line: line)
        }
        XCTAssertGreaterThan(everyDay.count, 30, file: file, line: line)
        XCTAssertLessThan(everyDay.count, expected.details.count, "the ranking moves some movies in and out", file: file, line: line)

        // Views.
        let top = try query("SELECT rank, movie_id, popularity, date_id FROM vw_top_movies ORDER BY rank")
        XCTAssertEqual(top.map { Int($0[1] ?? "") ?? -1 }, expected.top, "vw_top_movies", file: file, line: line)
        XCTAssertEqual(top.map { $0[0] ?? "" }, (1...20).map(String.init), file: file, line: line)
        XCTAssertEqual(Set(top.map { $0[3] ?? "" }), [String(expected.latestDate)], file: file, line: line)
        let genrePopularity = try query("SELECT genre_id, movies, avg_popularity FROM vw_genre_popularity")
        XCTAssertEqual(Set(genrePopularity.map { Int($0[0] ?? "") ?? -1 }), Set(expected.genrePopularity.keys), "vw_genre_popularity", file: file, line: line)
        for row in genrePopularity {
            guard let want = expected.genrePopularity[Int(row[0] ?? "") ?? -1] else { continue }
            XCTAssertEqual(Int(row[1] ?? ""), want.0, "genre \(row[0] ?? "")", file: file, line: line)
            XCTAssertEqual(number(row[2]), want.1, accuracy: 1e-6, "genre \(row[0] ?? "")", file: file, line: line)
        }
        let continents = try query("SELECT continent, movies, avg_popularity FROM vw_continent_popularity")
        XCTAssertEqual(Set(continents.map { $0[0] ?? "" }), Set(expected.continentPopularity.keys), "vw_continent_popularity", file: file, line: line)
        XCTAssertTrue(continents.contains { $0[0] == "Unknown" }, "a country outside the continent file", file: file, line: line)
        for row in continents {
            guard let want = expected.continentPopularity[row[0] ?? ""] else { continue }
            XCTAssertEqual(Int(row[1] ?? ""), want.0, "continent \(row[0] ?? "")", file: file, line: line)
            XCTAssertEqual(number(row[2]), want.1, accuracy: 1e-6, "continent \(row[0] ?? "")", file: file, line: line)
        }
        var latestPerMovie: [Int: (Int, Double)] = [:]
        for (date, rows) in expected.facts {
            for (movie, fact) in rows where (latestPerMovie[movie]?.0 ?? 0) < date { latestPerMovie[movie] = (date, fact.popularity) }
        }
        let latest = try query("SELECT movie_id, date_id, popularity, title FROM vw_movie_latest")
        XCTAssertEqual(latest.count, latestPerMovie.count, "vw_movie_latest", file: file, line: line)
        for row in latest {
            let want = latestPerMovie[Int(row[0] ?? "") ?? -1]
            XCTAssertEqual(Int(row[1] ?? ""), want?.0, "latest date of movie \(row[0] ?? "")", file: file, line: line)
            XCTAssertEqual(number(row[2]), want?.1 ?? -1, accuracy: 1e-9, file: file, line: line)
        }
    }
}

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
