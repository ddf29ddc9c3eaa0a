import Foundation

/// Loads `seeds/<name>.csv` as table `<name>` when the file changed since its last load (its SHA-256 is kept in
/// `_orchestrator_seeds` in the target), in one transaction. Column types come from the seeds' YAML, else are
/// inferred: `integer` when every value is a whole number, `real` when every value is a number, else `text`.
struct SeedLoader {
    let engine: any ModelEngine
    let log: TransformLog

    static let types = ["integer", "real", "bool", "text", "date", "timestamp"]
    static let registry = "_orchestrator_seeds"
    /// Seeds are small reference tables, read whole to infer types: larger files belong in the lake.
    static let maximumBytes = 64 << 20

    /// Returns whether the seed was (re)loaded.
    @discardableResult
    func load(_ seed: SeedDefinition) throws(TransformError) -> Bool {
        try engine.execute("CREATE TABLE IF NOT EXISTS \(Self.registry) (name TEXT PRIMARY KEY, sha256 TEXT NOT NULL)", [])
        guard let size = (try? FileManager.default.attributesOfItem(atPath: seed.file))?[.size] as? Int, size <= Self.maximumBytes,
              let data = FileManager.default.contents(atPath: seed.file) else {
            throw TransformError("\(seed.file): missing, unreadable or larger than \(Self.maximumBytes >> 20) MiB")
        }
        var hasher = SHA256()
        hasher.update(data)
        let digest = hasher.finalize()
        let known = try engine.scalar("SELECT sha256 FROM \(Self.registry) WHERE name = \(engine.placeholder(1))", [seed.name])
        if known == digest, try engine.relationKind(seed.name) == "table" {
            log("\(ModelsRun.name): seed \(seed.name) unchanged")
            return false
        }
        let columns = try inferColumns(seed)
        var rows = 0
        try engine.transaction { () throws(TransformError) in
            try engine.createTable(seed.name, columns: columns, withDS: false)
            rows = try engine.load(csv: seed.file, into: seed.name, columns: columns, ds: nil)
            try engine.execute("DELETE FROM \(Self.registry) WHERE name = \(engine.placeholder(1))", [seed.name])
            try engine.execute("INSERT INTO \(Self.registry) (name, sha256) VALUES (\(engine.placeholder(1)), \(engine.placeholder(2)))", [seed.name, digest])
        }
        log("\(ModelsRun.name): seed \(seed.name) loaded: \(rows) rows (\(columns.map { "\($0.name) \($0.type)" }.joined(separator: ", ")))")
        return true
    }

    func inferColumns(_ seed: SeedDefinition) throws(TransformError) -> [TableLoader.Column] {
        let reader = try wrap { () throws(CSVReader.Failure) in try CSVReader(path: seed.file) }
        guard let header = try wrap({ () throws(CSVReader.Failure) in try reader.next() }), !header.isEmpty else {
            throw TransformError("\(seed.file): the seed has no header line")
        }
        for name in header { try Naming.check(name, what: "seed column (in \(seed.file))", operation: ModelsRun.name) }
        for declared in seed.columnTypes.keys where !header.contains(declared) {
            throw TransformError("\(seed.file): column_types names \(declared), which the file's header lacks (\(header.joined(separator: ", ")))")
        }
        var integer = [Bool](repeating: true, count: header.count), real = integer
        var line = 1
        while let row = try wrap({ () throws(CSVReader.Failure) in try reader.next() }) {
            line += 1
            if row.count == 1 && row[0].isEmpty { continue }
            guard row.count == header.count else {
                throw TransformError("\(seed.file):\(line): \(row.count) fields where the header has \(header.count)")
            }
            for (index, value) in row.enumerated() where !value.isEmpty {
                if integer[index] && Int(value) == nil { integer[index] = false }
                if real[index] && Double(value).map({ $0.isFinite }) != true { real[index] = false }
            }
        }
        return header.enumerated().map { index, name in
            TableLoader.Column(name: name, type: seed.columnTypes[name] ?? (integer[index] ? "integer" : real[index] ? "real" : "text"))
        }
    }
}
