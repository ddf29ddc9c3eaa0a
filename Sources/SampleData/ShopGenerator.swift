import Foundation

/// Writes the daily drops of the `shop_lake` example: `<out>/<ds>/clients.csv` (clients who signed up that
/// day) and `<out>/<ds>/purchases.csv` (that day's purchases), shaped like another shop's exports: text ids
/// (`C0021`, `P00047`), clients from every ISO 3166-1 country, dates and timestamps in every usual ISO 8601
/// form (`Z`, `±hh:mm`, `±hhmm`, no offset, a space instead of `T`, fractional seconds, a date alone) and
/// day-first (`06/05/2024`). A share of the rows (`dirtiness`) carries a defect on purpose: exact duplicates,
/// empty required fields, negative prices, non-numeric quantities, orphan client ids, unknown countries,
/// impossible dates, stray whitespace and case, and invalid UTF-8.
///
/// It writes no answer key: tests compute what a correct pipeline keeps from these raw files, independently.
/// Deterministic: a day's files depend only on the seed, the sizes and the date (days are numbered from
/// 2020-01-01), never on `start` or `days`, so drops generated again for a later week agree byte for byte
/// with the ones already ingested.
public struct ShopGenerator {
    public var output: String
    public var start: Date
    public var days: Int
    public var clientsPerDay: Int
    public var purchasesPerDay: Int
    /// Share of rows given a defect (0 for clean data).
    public var dirtiness: Double
    public var seed: UInt64

    public init(output: String, start: Date, days: Int, clientsPerDay: Int, purchasesPerDay: Int, dirtiness: Double = 0.05, seed: UInt64 = 42) {
        self.output = output
        self.start = start
        self.days = days
        self.clientsPerDay = clientsPerDay
        self.purchasesPerDay = purchasesPerDay
        self.dirtiness = dirtiness
        self.seed = seed
    }

    public static let products: [(name: String, price: Double)] = [
        ("laptop", 899.0), ("phone", 499.5), ("headphones", 79.99), ("keyboard", 45.25), ("monitor", 219.0), ("mouse", 19.9),
    ]
    static let firstNames = ["Alice", "Bruno", "Chloé", "David", "Emma", "Farid", "Greta", "Hugo", "Inès", "Jonas"]
    static let lastNames = ["Martin", "Bernard", "Dubois", "Schmidt", "García", "Rossi", "Peeters", "de Vries"]

    struct Random {
        var state: UInt64
        mutating func next() -> UInt64 {  // SplitMix64
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func int(_ range: Range<Int>) -> Int { range.lowerBound + Int(next() % UInt64(range.count)) }
        mutating func chance(_ probability: Double) -> Bool { Double(next() % 1_000_000) / 1_000_000 < probability }
        mutating func pick<T>(_ items: [T]) -> T { items[int(0..<items.count)] }
    }

    /// 2020-01-01 as days since 1970: the generator's day 0.
    static let firstDayNumber = 18_262

    public static func clientId(_ number: Int) -> String { String(format: "C%04d", number) }
    public static func purchaseId(_ number: Int) -> String { String(format: "P%05d", number) }

    /// Writes every day; returns the number of purchase rows written (dirty ones included).
    @discardableResult
    public func generate() throws -> Int {
        var keptClientsByDay: [Int: [String]] = [:]
        var written = 0
        let firstDay = Int(start.timeIntervalSince1970.rounded(.down)).floorDivided(by: 86_400) * 86_400
        for dayIndex in 0..<days {
            let dayStart = firstDay + dayIndex * 86_400
            let dayNumber = Self.dayNumber(dayStart)
            let ds = String(IsoTimestamp.civil(dayStart).prefix(10))
            let folder = "\(output)/\(ds)"
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)

            let (clientLines, kept) = clientDrop(dayNumber: dayNumber, dayStart: dayStart)
            keptClientsByDay[dayNumber] = kept
            // Clients of earlier days come from their day number alone (regenerated, not remembered from this
            // window), so a day's purchases are the same whatever --start and --days were.
            let keptClients = { (number: Int) -> [String] in
                if let known = keptClientsByDay[number] { return known }
                let computed = clientDrop(dayNumber: number, dayStart: Self.dayStart(ofNumber: number)).kept
                keptClientsByDay[number] = computed
                return computed
            }

            var random = Random(state: seed ^ (UInt64(dayNumber) &* 0xD1B5_4A32_D192_ED03) ^ 0x5851_F42D_4C95_7F2D)
            var nextPurchase = dayNumber * purchasesPerDay + 1
            var purchaseLines = ["purchase_id,client_id,product,quantity,unit_price,purchase_date"]
            for _ in 0..<purchasesPerDay {
                // Mostly a client of the same day, sometimes one who signed up one or two days before.
                let back = random.chance(Self.sameDayClientShare) ? 0 : random.int(1..<(Self.clientLookbackDays + 1))
                var candidates = keptClients(max(0, dayNumber - back))
                if candidates.isEmpty { candidates = kept }
                if candidates.isEmpty { continue }
                let id = Self.purchaseId(nextPurchase)
                nextPurchase += 1
                let client = random.pick(candidates)
                let product = random.pick(Self.products)
                let quantity = random.int(1..<5)
                // The shop's day runs midnight to midnight at UTC+01:00, so its first hour is the UTC day before.
                let instant = dayStart - 3_600 + random.int(0..<86_400)
                var fields = [id, client, product.name, String(quantity), Self.price(product.price),
                              IsoTimestamp.render(instant, style: random.pick(IsoTimestamp.Style.timestampStyles))]
                if random.chance(dirtiness) {
                    switch random.int(0..<9) {
                    case 0: fields[4] = "-" + fields[4]                                          // negative price
                    case 1: fields[3] = "two"                                                    // not a number
                    case 2: fields[1] = Self.clientId(900_000_000 + nextPurchase)                    // orphan client
                    case 3: fields[1] = ""                                                       // missing client
                    case 4: fields[2] = "  \(product.name.uppercased()) "                        // case and spaces: cleaned
                    case 5: fields[5] = "\(ds.prefix(4))-13-45T10:00:00Z"                        // impossible date
                    case 6: fields[5] = ""                                                       // missing date
                    case 7: fields[0] = ""                                                       // missing id
                    default: fields[3] = "0"                                                     // zero quantity
                    }
                }
                purchaseLines.append(fields.map(Self.csvField).joined(separator: ","))
                if random.chance(dirtiness / 2) { purchaseLines.append(purchaseLines[purchaseLines.count - 1]) }
                written += 1
            }
            try Self.write(clientLines, to: "\(folder)/clients.csv")
            try Self.write(purchaseLines, to: "\(folder)/purchases.csv")
        }
        return written
    }

    /// Share of purchases by a client who signed up the same day; the others signed up 1 to
    /// `clientLookbackDays` days before (so the first days of a fresh window have a few orphans).
    static let sameDayClientShare = 0.85
    static let clientLookbackDays = 2

    /// Days since 2020-01-01 (earlier days all count as day 0).
    static func dayNumber(_ dayStart: Int) -> Int { max(0, dayStart.floorDivided(by: 86_400) - firstDayNumber) }
    static func dayStart(ofNumber number: Int) -> Int { (number + firstDayNumber) * 86_400 }

    /// The clients.csv lines of one day and the ids a correct pipeline keeps; the ids and the defects depend
    /// only on the seed and the day number.
    func clientDrop(dayNumber: Int, dayStart: Int) -> (lines: [String], kept: [String]) {
        var random = Random(state: seed ^ (UInt64(dayNumber) &* 0xD1B5_4A32_D192_ED03))
        var nextClient = dayNumber * clientsPerDay + 1
        var kept: [String] = []
        var clientLines = ["client_id,first_name,last_name,email,country,signup_date"]
        for _ in 0..<clientsPerDay {
            let id = Self.clientId(nextClient)
            nextClient += 1
            let first = random.pick(Self.firstNames), last = random.pick(Self.lastNames)
            let email = "\(first.lowercased().folding(options: .diacriticInsensitive, locale: nil)).\(id.lowercased())@example.com"
            let country = random.chance(0.7) ? random.pick(Self.mainMarkets) : random.pick(Self.isoCountries)
            let signup = IsoTimestamp.render(dayStart + random.int(0..<86_400), style: random.pick(IsoTimestamp.Style.dateStyles))
            var fields = [id, first, last, email, country, signup]
            var keep = true
            if random.chance(dirtiness) {
                switch random.int(0..<6) {
                case 0: fields[3] = ""; keep = false                                       // no email: rejected
                case 1: fields[3] = "  \(email.uppercased()) "                              // case and spaces: cleaned
                case 2: fields[4] = " \(country.lowercased())"                               // country case: cleaned
                case 3: fields[0] = ""; keep = false                                       // no id: rejected
                case 4: fields[1] = "Jos\u{FFFF}"; keep = false                              // invalid UTF-8, see below
                default: fields[4] = random.pick(["Atlantis", "XK", "EU"]); keep = false     // not ISO 3166-1: rejected
                }
            }
            if keep { kept.append(id) }
            clientLines.append(fields.map(Self.csvField).joined(separator: ","))
            if random.chance(dirtiness / 2) { clientLines.append(clientLines[clientLines.count - 1]) }  // exact duplicate
        }
        return (clientLines, kept)
    }

    static func price(_ value: Double) -> String { String(format: "%.2f", value) }

    static func csvField(_ text: String) -> String {
        text.contains(",") || text.contains("\"") ? "\"\(text.replacingOccurrences(of: "\"", with: "\"\""))\"" : text
    }

    /// CRLF line ends like a spreadsheet export; U+FFFF marks where a byte of invalid UTF-8 goes.
    static func write(_ lines: [String], to path: String) throws {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(lines.count * 64)
        for line in lines {
            if line.utf8.contains(0xEF) {  // U+FFFF is EF BF BF in UTF-8: only then look at scalars
                for scalar in line.unicodeScalars {
                    if scalar == "\u{FFFF}" { bytes.append(0xFF) } else { bytes.append(contentsOf: String(scalar).utf8) }
                }
            } else {
                bytes.append(contentsOf: line.utf8)
            }
            bytes += [0x0D, 0x0A]
        }
        try Data(bytes).write(to: URL(fileURLWithPath: path), options: .atomic)
    }
}
