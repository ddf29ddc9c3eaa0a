import Foundation

/// The movies of the TMDb stand-in (`orchestrator sample movies-api`): deterministic for a seed, with the dirt the
/// real API has (details that disagree with discover, missing release dates, empty lists, companies with no origin
/// country, languages outside ISO 639-1, a movie repeated across two discover pages). Popularity and votes drift
/// with the day, so a daily DAG sees new facts each day and a re-run of a day sees the same ones.
public struct MoviesCatalog: Sendable {
    public static let pageSize = 20
    /// TMDb serves at most 500 pages of discover results.
    public static let maxPages = 500

    public let count: Int
    let seed: UInt64

    public init(movies: Int, seed: UInt64 = 7) {
        count = max(1, min(movies, Self.pageSize * Self.maxPages))
        self.seed = seed
    }

    public static let genres: [(id: Int, name: String)] = [
        (28, "Action"), (12, "Adventure"), (16, "Animation"), (35, "Comedy"), (80, "Crime"), (99, "Documentary"),
        (18, "Drama"), (10751, "Family"), (14, "Fantasy"), (36, "History"), (27, "Horror"), (10402, "Music"),
        (9648, "Mystery"), (10749, "Romance"), (878, "Science Fiction"), (10770, "TV Movie"), (53, "Thriller"),
        (10752, "War"), (37, "Western"),
    ]
    /// Countries a movie is produced in; "XK" (Kosovo) and "SU" (the Soviet Union, which TMDb still lists) are not in
    /// the DAG's continent file on purpose.
    static let countries: [(code: String, name: String)] = [
        ("US", "United States of America"), ("GB", "United Kingdom"), ("FR", "France"), ("DE", "Germany"),
        ("JP", "Japan"), ("KR", "South Korea"), ("IN", "India"), ("BR", "Brazil"), ("NG", "Nigeria"),
        ("AU", "Australia"), ("CA", "Canada"), ("MX", "Mexico"), ("ZA", "South Africa"), ("ES", "Spain"),
        ("IT", "Italy"), ("CN", "China"), ("XK", "Kosovo"), ("SU", "Soviet Union"),
    ]
    /// "xx" is TMDb's "No Language"; "cn" is TMDb's Cantonese code, not ISO 639-1.
    static let languages: [(code: String, name: String)] = [
        ("en", "English"), ("fr", "French"), ("de", "German"), ("ja", "Japanese"), ("ko", "Korean"), ("hi", "Hindi"),
        ("pt", "Portuguese"), ("es", "Spanish"), ("it", "Italian"), ("zh", "Mandarin"), ("cn", "Cantonese"),
        ("xx", "No Language"),
    ]

    /// The id of the `index`-th movie (0-based): sparse, like TMDb's.
    public func id(_ index: Int) -> Int { 100 + index * 37 + Int(mix(UInt64(index), 1) % 29) }

    public func index(ofId id: Int) -> Int? {
        // id(index) lies in [100 + 37 index, 100 + 37 index + 28]: the index is (id - 100) / 37 or nothing.
        guard id >= 100, id < 100 + 37 * count else { return nil }
        let index = (id - 100) / 37
        return self.id(index) == id ? index : nil
    }

    /// Days since 2000-01-01 of a `YYYY-MM-DD` day (the drift's clock); nil when it is not a date.
    public static func dayNumber(_ day: String) -> Int? {
        let parts = day.split(separator: "-")
        guard day.utf8.count == 10, parts.count == 3, let year = Int(parts[0]), let month = Int(parts[1]), let dayOfMonth = Int(parts[2]),
              (1...12).contains(month), (1...31).contains(dayOfMonth) else { return nil }
        var components = DateComponents()
        (components.year, components.month, components.day) = (year, month, dayOfMonth)
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(secondsFromGMT: 0) ?? .current
        guard let date = calendar.date(from: components), calendar.component(.day, from: date) == dayOfMonth else { return nil }
        return Int((date.timeIntervalSince1970 - 946_684_800) / 86_400)
    }

    public func popularity(_ index: Int, day: Int) -> Double {
        let base = 2_000.0 / Double(index + 4) + Double(mix(UInt64(index), 2) % 100) / 10
        let drift = 1 + 0.35 * sin(Double(day) * 0.9 + Double(index))
        return (base * drift * 1000).rounded() / 1000
    }

    public func voteCount(_ index: Int, day: Int) -> Int { Int(mix(UInt64(index), 3) % 20_000) + max(0, day - 9_000) * (index % 7 + 1) }

    public func voteAverage(_ index: Int, day: Int) -> Double {
        let base = 4.0 + Double(mix(UInt64(index), 4) % 50) / 10
        return ((base + 0.1 * Double((day + index) % 3)) * 10).rounded() / 10
    }

    /// The discover list of a day: every movie by popularity, most popular first (ties by id).
    public func ranking(day: Int) -> [Int] {
        (0..<count).sorted {
            let (a, b) = (popularity($0, day: day), popularity($1, day: day))
            return a != b ? a > b : id($0) < id($1)
        }
    }

    public var totalPages: Int { (count + Self.pageSize - 1) / Self.pageSize }

    /// One discover page (1-based). Every third page also repeats the previous page's last movie first, as TMDb does
    /// when the ranking moves between two page requests.
    public func discoverPage(_ page: Int, day: Int, ranking: [Int]) -> [String: Any] {
        let start = (page - 1) * Self.pageSize
        var indexes = start < ranking.count ? Array(ranking[start..<min(ranking.count, start + Self.pageSize)]) : []
        if page % 3 == 2, start > 0, start <= ranking.count { indexes.insert(ranking[start - 1], at: 0) }
        let results: [[String: Any]] = indexes.map { index in
            [
                "id": id(index), "title": title(index), "popularity": popularity(index, day: day),
                "vote_average": voteAverage(index, day: day), "vote_count": voteCount(index, day: day),
                "release_date": releaseDate(index) ?? "", "genre_ids": genreIds(index),
                "original_language": originalLanguage(index), "adult": false,
            ]
        }
        return ["page": page, "total_pages": totalPages, "total_results": count, "results": results]
    }

    public func details(_ index: Int, day: Int) -> [String: Any] {
        var details: [String: Any] = [
            "id": id(index),
            // Details are newer than the discover index for some movies: the title changed since.
            "title": index % 10 == 3 ? "\(title(index)) (Director's Cut)" : title(index),
            "original_language": originalLanguage(index),
            "runtime": index % 17 == 6 ? 0 : 80 + Int(mix(UInt64(index), 5) % 90),
            "budget": index % 5 == 1 ? 0 : Int(mix(UInt64(index), 6) % 200) * 1_000_000,
            "revenue": index % 4 == 2 ? 0 : Int(mix(UInt64(index), 7) % 900) * 1_000_000,
            "popularity": popularity(index, day: day), "vote_average": voteAverage(index, day: day),
            "vote_count": voteCount(index, day: day),
            "genres": genreIds(index).map { id in ["id": id, "name": Self.genres.first { $0.id == id }?.name ?? ""] },
            "production_companies": companies(index),
            "production_countries": countryIndexes(index).map { ["iso_3166_1": Self.countries[$0].code, "name": Self.countries[$0].name] },
            "spoken_languages": languageIndexes(index).map { ["iso_639_1": Self.languages[$0].code, "english_name": Self.languages[$0].name] },
        ]
        // A missing release date comes as "" in discover and as null or "" in details.
        details["release_date"] = releaseDate(index) ?? (index % 2 == 0 ? NSNull() : "" as Any)
        return details
    }

    public var genreList: [String: Any] { ["genres": Self.genres.map { ["id": $0.id, "name": $0.name] }] }

    func title(_ index: Int) -> String {
        let first = ["The", "A", "Last", "Silent", "Red", "Midnight", "Lost", "Golden", "Broken", "Endless"]
        let second = ["River", "Empire", "Garden", "Signal", "Harbor", "Machine", "Summer", "Witness", "Frontier", "Echo"]
        return "\(first[Int(mix(UInt64(index), 8) % 10)]) \(second[Int(mix(UInt64(index), 9) % 10)]) \(index + 1)"
    }

    func releaseDate(_ index: Int) -> String? {
        guard index % 11 != 5 else { return nil }
        let year = 1970 + Int(mix(UInt64(index), 10) % 56), month = 1 + index % 12, day = 1 + index % 28
        return String(format: "%04d-%02d-%02d", year, month, day)
    }

    func originalLanguage(_ index: Int) -> String { Self.languages[Int(mix(UInt64(index), 11) % UInt64(Self.languages.count))].code }

    func genreIds(_ index: Int) -> [Int] {
        guard index % 9 != 4 else { return [] }
        return picks(index, salt: 12, from: Self.genres.count, most: 3).map { Self.genres[$0].id }
    }

    func companies(_ index: Int) -> [[String: Any]] {
        guard index % 8 != 1 else { return [] }
        return picks(index, salt: 13, from: 40, most: 3).map { company in
            // A fifth of the companies have no origin country ("" in TMDb).
            let country = company % 5 == 3 ? "" : Self.countries[company % 16].code
            return ["id": 1_000 + company, "name": "Studio \(company)", "origin_country": country, "logo_path": NSNull()]
        }
    }

    func countryIndexes(_ index: Int) -> [Int] { index % 7 == 2 ? [] : picks(index, salt: 14, from: Self.countries.count, most: 2) }

    func languageIndexes(_ index: Int) -> [Int] { index % 6 == 5 ? [] : picks(index, salt: 15, from: Self.languages.count, most: 3) }

    /// 1…`most` distinct values below `limit`, in a stable order.
    func picks(_ index: Int, salt: UInt64, from limit: Int, most: Int) -> [Int] {
        let wanted = 1 + Int(mix(UInt64(index), salt) % UInt64(most))
        var chosen: [Int] = []
        var round: UInt64 = 0
        while chosen.count < wanted {
            let value = Int(mix(UInt64(index) &* 131 &+ round, salt &+ 100) % UInt64(limit))
            if !chosen.contains(value) { chosen.append(value) }
            round += 1
        }
        return chosen
    }

    /// SplitMix64 of the seed, a value and a salt: the catalog's only source of variety.
    func mix(_ value: UInt64, _ salt: UInt64) -> UInt64 {
        var z = seed &+ value &* 0x9E37_79B9_7F4A_7C15 &+ salt &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
