import Foundation
import XCTest

/// `orchestrator sample movies-api` as a child process on a free loopback port, and the expected star schema computed
/// from its HTTP answers alone (fetched here with a plain HTTP client, retried past its injected 429s and 503s).
final class MoviesStandIn {
    let process: Process
    let port: Int
    let token: String?
    var baseURL: String { "http://127.0.0.1:\(port)/3" }

    init(token: String?, arguments: [String] = []) throws {
        self.token = token
        process = Process()
        process.executableURL = URL(fileURLWithPath: Harness.orchestrator)
        process.arguments = ["sample", "movies-api", "--listen", "127.0.0.1:0"] + (token == nil ? [] : ["--token-env", "MOVIES_TEST_TOKEN"]) + arguments
        process.environment = ProcessInfo.processInfo.environment.merging(["MOVIES_TEST_TOKEN": token ?? ""]) { $1 }
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        // "listening on http://127.0.0.1:PORT/3"
        var text = ""
        let deadline = Date().addingTimeInterval(20)
        while !text.contains("\n") && Date() < deadline {
            let data = pipe.fileHandleForReading.availableData
            if data.isEmpty { break }
            text += String(decoding: data, as: UTF8.self)
        }
        guard let portText = text.split(separator: ":").last?.split(separator: "/").first, let port = Int(portText) else {
            process.terminate()
            throw XCTSkip("the movies stand-in did not start: \(text)")
        }
        self.port = port
    }

    func stop() {
        process.terminate()
        process.waitUntilExit()
    }

    /// GET with the token, retried past 429 and 5xx.
    func get(_ path: String, client: HTTPClient) throws -> [String: Any] {
        for _ in 0..<20 {
            let reply = try client.get(baseURL + path, headers: token.map { ["Authorization": "Bearer \($0)"] } ?? [:])
            if reply.status == 429 || reply.status >= 500 {
                usleep(200_000)
                continue
            }
            XCTAssertEqual(reply.status, 200, path)
            return try XCTUnwrap(reply.json as? [String: Any], path)
        }
        throw XCTSkip("the stand-in kept refusing \(path)")
    }
}

/// The star schema and the four views, computed in Swift from the stand-in's responses for a run of days.
struct MoviesExpectation {
    struct Fact: Equatable {
        let popularity: Double
        let voteAverage: Double
        let voteCount: Int
    }

    /// date_id → movie_id → fact.
    var facts: [Int: [Int: Fact]] = [:]
    /// movie_id → the latest details.
    var details: [Int: [String: Any]] = [:]
    var genres: [Int: String] = [:]
    /// Movies that a day's discover listed on two pages.
    var repeatedAcrossPages = 0
    let continents: [String: String]

    init(standIn: MoviesStandIn, days: [String], pages: Int, continentsCSV: String) throws {
        var continents: [String: String] = [:]
        for line in continentsCSV.split(separator: "\n").dropFirst() {
            let fields = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            if fields.count == 2 { continents[fields[0]] = fields[1] }
        }
        self.continents = continents
        let client = HTTPClient()
        for day in days {
            let dateId = Int(day.replacingOccurrences(of: "-", with: ""))!
            var ids: [Int] = []
            var page = 1
            while page <= pages {
                let body = try standIn.get("/discover/movie?sort_by=popularity.desc&day=\(day)&page=\(page)", client: client)
                for result in body["results"] as? [[String: Any]] ?? [] {
                    let id = result["id"] as! Int
                    facts[dateId, default: [:]][id] = Fact(popularity: (result["popularity"] as! NSNumber).doubleValue,
                                                           voteAverage: (result["vote_average"] as! NSNumber).doubleValue,
                                                           voteCount: result["vote_count"] as! Int)
                    if ids.contains(id) { repeatedAcrossPages += 1 } else { ids.append(id) }
                }
                if page >= body["total_pages"] as! Int { break }
                page += 1
            }
            for id in ids { details[id] = try standIn.get("/movie/\(id)?day=\(day)", client: client) }
            for genre in try standIn.get("/genre/movie/list?day=\(day)", client: client)["genres"] as? [[String: Any]] ?? [] {
                genres[genre["id"] as! Int] = genre["name"] as? String
            }
        }
    }

    static func text(_ value: Any?) -> String? {
        if let text = value as? String { return text.isEmpty ? nil : text }
        if let number = value as? NSNumber { return number.stringValue }
        return nil
    }

    var latestDate: Int { facts.keys.max() ?? 0 }
    var latest: [Int: Fact] { facts[latestDate] ?? [:] }

    /// movie_id → its row of dim_movie, as text.
    var movies: [Int: [String?]] {
        details.mapValues { d in
            [Self.text(d["title"]), Self.text(d["release_date"]), Self.text(d["runtime"]), Self.text(d["budget"]),
             Self.text(d["revenue"]), Self.text(d["original_language"])]
        }
    }

    func bridge(_ list: String, key: String) -> Set<String> {
        var rows = Set<String>()
        for (id, d) in details { for item in d[list] as? [[String: Any]] ?? [] { rows.insert("\(id)|\(Self.text(item[key]) ?? "")") } }
        return rows
    }

    func dimension(_ list: String, key: String, fields: [String]) -> [String: [String?]] {
        var rows: [String: [String?]] = [:]
        for d in details.values {
            for item in d[list] as? [[String: Any]] ?? [] { rows[Self.text(item[key]) ?? ""] = fields.map { Self.text(item[$0]) } }
        }
        return rows
    }

    /// genre_id → (movies, average popularity) on the latest date.
    var genrePopularity: [Int: (Int, Double)] {
        var sums: [Int: (Int, Double)] = [:]
        for (id, fact) in latest {
            for genre in details[id]?["genres"] as? [[String: Any]] ?? [] {
                let genreId = genre["id"] as! Int
                let (count, total) = sums[genreId] ?? (0, 0)
                sums[genreId] = (count + 1, total + fact.popularity)
            }
        }
        return sums.mapValues { ($0.0, $0.1 / Double($0.0)) }
    }

    var continentPopularity: [String: (Int, Double)] {
        var sums: [String: (Int, Double)] = [:]
        for (id, fact) in latest {
            let codes = (details[id]?["production_countries"] as? [[String: Any]] ?? []).compactMap { $0["iso_3166_1"] as? String }
            for continent in Set(codes.map { continents[$0] ?? "Unknown" }) {
                let (count, total) = sums[continent] ?? (0, 0)
                sums[continent] = (count + 1, total + fact.popularity)
            }
        }
        return sums.mapValues { ($0.0, $0.1 / Double($0.0)) }
    }

    /// The top 20 movie ids of the latest date (popularity, then id).
    var top: [Int] {
        Array(latest.sorted { $0.value.popularity != $1.value.popularity ? $0.value.popularity > $1.value.popularity : $0.key < $1.key }
            .prefix(20).map(\.key))
    }
}
