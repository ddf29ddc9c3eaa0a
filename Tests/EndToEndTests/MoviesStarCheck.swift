import Foundation
import XCTest

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
        XCTAssertGreaterThan(expected.repeatedAcrossPages, 0, "a movie on two discover pages (one fact row)", file: file, line: line)
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
