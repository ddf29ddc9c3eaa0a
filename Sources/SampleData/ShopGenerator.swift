import Foundation

/// Writes the daily drops of the `shop_lake` example: `<out>/<ds>/clients.csv` (clients who signed up that
/// day) and `<out>/<ds>/purchases.csv` (that day's purchases), dirtied on purpose: exact duplicates, empty
/// required fields, negative prices, non-numeric quantities, orphan client ids, mixed date formats, stray
/// whitespace and case, and invalid UTF-8.
///
/// Beside the drops it writes `<out>/_truth/<ds>/{clients,purchases}.csv`: the clean rows a correct
/// pipeline must keep, as the generator made them before dirtying. Tests compute the expected gold tables
/// from these, independently of the pipeline. Deterministic for a given seed.
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

    public static let countries = ["FR", "DE", "ES", "IT", "BE", "NL"]
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

    /// Writes every day; returns the number of purchase rows written (dirty ones included).
    @discardableResult
    public func generate() throws -> Int {
        var random = Random(state: seed)
        var nextClient = 1
        var nextPurchase = 1
        var clients: [Int] = []
        var written = 0
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(secondsFromGMT: 0) ?? .current
        for dayIndex in 0..<days {
            guard let date = calendar.date(byAdding: .day, value: dayIndex, to: start) else { continue }
            let parts = calendar.dateComponents([.year, .month, .day], from: date)
            let (year, month, day) = (parts.year ?? 1970, parts.month ?? 1, parts.day ?? 1)
            let ds = String(format: "%04d-%02d-%02d", year, month, day)
            let folder = "\(output)/\(ds)"
            let truthFolder = "\(output)/_truth/\(ds)"
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            try FileManager.default.createDirectory(atPath: truthFolder, withIntermediateDirectories: true)

            var clientLines = ["client_id,first_name,last_name,email,country,signup_date"]
            var clientTruth = ["client_id,first_name,last_name,email,country,signup_date"]
            for _ in 0..<clientsPerDay {
                let id = nextClient
                nextClient += 1
                let first = random.pick(Self.firstNames), last = random.pick(Self.lastNames)
                let email = "\(first.lowercased().folding(options: .diacriticInsensitive, locale: nil)).\(id)@example.com"
                let country = random.pick(Self.countries)
                var fields = [String(id), first, last, email, country, ds]
                var keep = true
                if random.chance(dirtiness) {
                    switch random.int(0..<6) {
                    case 0: fields[3] = ""; keep = false                                       // no email: rejected
                    case 1: fields[3] = "  \(email.uppercased()) "                              // case and spaces: cleaned
                    case 2: fields[4] = " \(country.lowercased())"                               // country case: cleaned
                    case 3: fields[5] = String(format: "%02d/%02d/%04d", day, month, year)        // other date format
                    case 4: fields[1] = "Jos\u{FFFF}"; keep = false                              // invalid UTF-8, see below
                    default: fields[4] = "Atlantis"; keep = false                                // unknown country: rejected
                    }
                }
                if keep {
                    clients.append(id)
                    clientTruth.append([String(id), first, last, email, country, ds].map(Self.csvField).joined(separator: ","))
                }
                clientLines.append(fields.map(Self.csvField).joined(separator: ","))
                if random.chance(dirtiness / 2) { clientLines.append(clientLines[clientLines.count - 1]) }  // exact duplicate
            }

            var purchaseLines = ["purchase_id,client_id,product,quantity,unit_price,purchase_date"]
            var purchaseTruth = ["purchase_id,client_id,product,quantity,unit_price,purchase_date"]
            for _ in 0..<purchasesPerDay where !clients.isEmpty {
                let id = nextPurchase
                nextPurchase += 1
                let client = random.pick(clients)
                let product = random.pick(Self.products)
                let quantity = random.int(1..<5)
                let (hour, minute, second) = (random.int(0..<24), random.int(0..<60), random.int(0..<60))
                let timestamp = String(format: "%@T%02d:%02d:%02dZ", ds, hour, minute, second)
                var fields = [String(id), String(client), product.name, String(quantity), Self.price(product.price), timestamp]
                var keep = true
                if random.chance(dirtiness) {
                    switch random.int(0..<8) {
                    case 0: fields[4] = "-" + fields[4]; keep = false                              // negative price
                    case 1: fields[3] = "two"; keep = false                                        // not a number
                    case 2: fields[1] = String(900_000_000 + id); keep = false                      // orphan client
                    case 3: fields[1] = ""; keep = false                                           // missing client
                    case 4: fields[2] = "  \(product.name.uppercased()) "                          // case and spaces
                    case 5: fields[5] = String(format: "%@ %02d:%02d:%02d", ds, hour, minute, second)  // space separator
                    case 6: fields[5] = String(format: "%02d/%02d/%04d %02d:%02d:%02d", day, month, year, hour, minute, second)
                    default: fields[3] = "0"; keep = false                                         // zero quantity
                    }
                }
                if keep {
                    purchaseTruth.append([String(id), String(client), product.name, String(quantity), Self.price(product.price), timestamp].joined(separator: ","))
                }
                purchaseLines.append(fields.map(Self.csvField).joined(separator: ","))
                if random.chance(dirtiness / 2) { purchaseLines.append(purchaseLines[purchaseLines.count - 1]) }
                written += 1
            }
            try Self.write(clientLines, to: "\(folder)/clients.csv")
            try Self.write(purchaseLines, to: "\(folder)/purchases.csv")
            try Self.write(clientTruth, to: "\(truthFolder)/clients.csv")
            try Self.write(purchaseTruth, to: "\(truthFolder)/purchases.csv")
        }
        return written
    }

    static func price(_ value: Double) -> String { String(format: "%.2f", value) }

    static func csvField(_ text: String) -> String {
        text.contains(",") || text.contains("\"") ? "\"\(text.replacingOccurrences(of: "\"", with: "\"\""))\"" : text
    }

    /// CRLF line ends like a spreadsheet export; U+FFFF marks where a byte of invalid UTF-8 goes.
    static func write(_ lines: [String], to path: String) throws {
        var bytes: [UInt8] = []
        for line in lines {
            for scalar in line.unicodeScalars {
                if scalar == "\u{FFFF}" { bytes.append(0xFF) } else { bytes.append(contentsOf: String(scalar).utf8) }
            }
            bytes += [0x0D, 0x0A]
        }
        try Data(bytes).write(to: URL(fileURLWithPath: path), options: .atomic)
    }
}
