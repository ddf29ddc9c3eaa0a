import Foundation

/// A dbt-like models project: `staging/`, `intermediate/`, `marts/` with one `.sql` per model, `schema.yml`
/// files beside them, `seeds/*.csv` (+ `*.yml` column types) and singular tests in `tests/*.sql`.
/// Loaded for one engine: `<model>.<engine>.sql` replaces `<model>.sql` there (`sqlite`, `postgres`, `duckdb`).
public struct ModelProject: Sendable {
    public let folder: String
    /// In dependency order (a model after every model it refs).
    public let models: [ModelDefinition]
    let seeds: [SeedDefinition]
    let tests: [ModelTest]

    public static let modelFolders = ["staging", "intermediate", "marts"]
    static let engines = ["sqlite", "postgres", "duckdb"]
    /// Budgets: a project is written by hand; far more than this is a mistake (or a hostile folder).
    static let maximumModels = 2000
    static let maximumFileBytes = 1 << 20

    public var seedNames: [String] { seeds.map(\.name) }

    public func model(named name: String) -> ModelDefinition? { models.first { $0.name == name } }

    public static func load(folder: String, engine: String) throws(TransformError) -> ModelProject {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw TransformError("\(ModelsRun.name): project folder \(folder) does not exist")
        }
        var schema = ModelSchemaFile.Merged()
        for path in schemaFiles(folder) { try schema.add(ModelSchemaFile(path: path)) }
        var models: [ModelDefinition] = []
        for sub in modelFolders {
            models += try loadModels(folder: "\(folder)/\(sub)", group: sub, engine: engine, schema: schema)
        }
        guard models.count <= maximumModels else { throw TransformError("\(ModelsRun.name): \(folder) holds more than \(maximumModels) models") }
        guard !models.isEmpty else {
            throw TransformError("\(ModelsRun.name): no model in \(folder) (expected .sql files under \(modelFolders.joined(separator: "/, "))/)")
        }
        var seen: [String: String] = [:]
        for model in models {
            if let other = seen[model.name] { throw TransformError("\(ModelsRun.name): model \(model.name) is defined twice: \(other) and \(model.file)") }
            seen[model.name] = model.file
        }
        let seeds = try loadSeeds(folder: "\(folder)/seeds", types: schema.seedColumnTypes)
        for seed in seeds where seen[seed.name] != nil {
            throw TransformError("\(ModelsRun.name): seed \(seed.file) and model \(seen[seed.name] ?? "") share the name \(seed.name)")
        }
        let seedNames = Set(seeds.map(\.name))
        for model in models {
            for source in model.sources {
                if source.source == "seeds", !seedNames.contains(source.table) {
                    throw TransformError("\(model.file): source('seeds', '\(source.table)') names no seed (seeds: \(seedNames.sorted().joined(separator: ", ")))")
                }
                if source.source != "seeds", seen[source.relation] != nil {
                    throw TransformError("\(model.file): source('\(source.source)', '\(source.table)') is loaded as table \(source.relation), which model \(source.relation) would overwrite: rename the model")
                }
            }
        }
        let ordered = try ModelGraph.order(models, seeds: seedNames)
        var tests = schema.tests
        tests += try loadSingularTests(folder: "\(folder)/tests")
        let known = Set(models.map(\.name)).union(seeds.map(\.name))
        for test in tests {
            if let model = test.model, !known.contains(model) {
                throw TransformError("\(test.origin): tests for model \(model), which does not exist (models: \(models.map(\.name).sorted().joined(separator: ", ")))")
            }
            for reference in test.references where !known.contains(reference) {
                throw TransformError("\(test.origin): test \(test.name) refs '\(reference)', which names no model or seed")
            }
        }
        return ModelProject(folder: folder, models: ordered, seeds: seeds, tests: tests)
    }

    /// Every `*.yml` / `*.yaml` of the project outside `seeds/` (schema files may sit anywhere, as in dbt).
    static func schemaFiles(_ folder: String) -> [String] {
        guard let enumerator = FileManager.default.enumerator(atPath: folder) else { return [] }
        var found: [String] = []
        while let relative = enumerator.nextObject() as? String {
            if relative.hasPrefix("seeds/") || relative == "seeds" { continue }
            if relative.hasSuffix(".yml") || relative.hasSuffix(".yaml") { found.append("\(folder)/\(relative)") }
        }
        return found.sorted()
    }

    static func read(_ path: String) throws(TransformError) -> String {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
              let size = attributes[.size] as? Int, size <= maximumFileBytes else {
            throw TransformError("\(path): missing, unreadable or larger than \(maximumFileBytes / 1024) KiB")
        }
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw TransformError("\(path): not readable as UTF-8 text") }
        return text
    }

    static func loadModels(folder: String, group: String, engine: String, schema: ModelSchemaFile.Merged) throws(TransformError) -> [ModelDefinition] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder) else { return [] }
        var generic: [String: String] = [:], variants: [String: String] = [:], otherEngines: [String: String] = [:]
        for file in names.filter({ $0.hasSuffix(".sql") }) {
            let parts = file.dropLast(4).split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            if parts.count == 2, engines.contains(parts[1]) {
                try Naming.check(parts[0], what: "model (file \(group)/\(file))", operation: ModelsRun.name)
                if parts[1] == engine { variants[parts[0]] = file } else { otherEngines[parts[0]] = file }
            } else {
                let stem = parts.joined(separator: ".")
                try Naming.check(stem, what: "model (file \(group)/\(file))", operation: ModelsRun.name)
                generic[stem] = file
            }
        }
        for (model, file) in otherEngines where generic[model] == nil && variants[model] == nil {
            throw TransformError("\(ModelsRun.name): model \(model) has only \(group)/\(file), no \(model).sql or \(model).\(engine).sql for \(engine)")
        }
        var models: [ModelDefinition] = []
        for name in Set(generic.keys).union(variants.keys).sorted() {
            guard let file = variants[name] ?? generic[name] else { continue }
            let path = "\(folder)/\(file)"
            let config = try ModelFileConfig(parsing: try read(path), file: path)
            let yaml = schema.configs[name]?.config
            var materialized = try config.materialization(file: path)
            if materialized == nil, let yaml { materialized = try yaml.materialization(file: path) }
            let materialization = materialized ?? .view
            let partitionBy = config.values["partition_by"] ?? yaml?.values["partition_by"]
            if materialization == .incremental {
                guard let partitionBy else { throw TransformError("\(path): an incremental model needs partition_by (the column whose interval a run replaces)") }
                try Naming.check(partitionBy, what: "partition_by column", operation: ModelsRun.name)
            }
            // Rendered once here to find the refs and sources (and any template error, with the file's name).
            let template = try SQLTemplate(config.remainingSQL, where: path, allowReferences: true, allowSources: true)
            for source in template.sources {
                try Naming.check(source.source, what: "source name (in \(path))", operation: ModelsRun.name)
                try Naming.check(source.table, what: "source table (in \(path))", operation: ModelsRun.name)
            }
            for reference in template.references { try Naming.check(reference, what: "ref (in \(path))", operation: ModelsRun.name) }
            var sql = config.remainingSQL
            let leading = sql.prefix { $0.isWhitespace }.filter { $0 == "\n" }.count
            sql = sql.trimmingCharacters(in: .whitespacesAndNewlines)
            while sql.hasSuffix(";") { sql.removeLast(); sql = sql.trimmingCharacters(in: .whitespacesAndNewlines) }
            models.append(ModelDefinition(name: name, folder: group, file: path, template: sql, materialized: materialization,
                                          partitionBy: partitionBy, tags: config.tags + (yaml?.tags ?? []),
                                          references: Array(Set(template.references)).sorted(), sources: Array(Set(template.sources)).sorted { $0.relation < $1.relation },
                                          leadingLines: leading))
        }
        return models
    }

    static func loadSeeds(folder: String, types: [String: [String: String]]) throws(TransformError) -> [SeedDefinition] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder) else { return [] }
        var seedTypes = types
        for file in names.sorted() where file.hasSuffix(".yml") || file.hasSuffix(".yaml") {
            for (seed, columns) in try ModelSchemaFile(path: "\(folder)/\(file)").seedColumnTypes { seedTypes[seed] = columns }
        }
        var seeds: [SeedDefinition] = []
        for file in names.sorted() where file.hasSuffix(".csv") {
            let name = String(file.dropLast(4))
            try Naming.check(name, what: "seed (file seeds/\(file))", operation: ModelsRun.name)
            seeds.append(SeedDefinition(name: name, file: "\(folder)/\(file)", columnTypes: seedTypes[name] ?? [:]))
        }
        return seeds
    }

    static func loadSingularTests(folder: String) throws(TransformError) -> [ModelTest] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder) else { return [] }
        var tests: [ModelTest] = []
        for file in names.sorted() where file.hasSuffix(".sql") {
            let path = "\(folder)/\(file)"
            let config = try ModelFileConfig(parsing: try read(path), file: path)
            let severity = config.values["severity"] ?? "error"
            guard severity == "warn" || severity == "error" else { throw TransformError("\(path): severity '\(severity)' must be warn or error") }
            let template = try SQLTemplate(config.remainingSQL, where: path, allowReferences: true, allowSources: true)
            var sql = config.remainingSQL.trimmingCharacters(in: .whitespacesAndNewlines)
            while sql.hasSuffix(";") { sql.removeLast(); sql = sql.trimmingCharacters(in: .whitespacesAndNewlines) }
            tests.append(ModelTest(name: String(file.dropLast(4)), model: nil, template: sql, warnOnly: severity == "warn",
                                   origin: path, references: Array(Set(template.references)).sorted()))
        }
        return tests
    }
}

extension ModelSchemaFile {
    /// Every schema file of a project together; a model configured twice is an error naming both files.
    struct Merged {
        var configs: [String: (config: ModelFileConfig, line: Int)] = [:]
        var tests: [ModelTest] = []
        var seedColumnTypes: [String: [String: String]] = [:]

        mutating func add(_ file: ModelSchemaFile) throws(TransformError) {
            for (model, entry) in file.configs { configs[model] = entry }
            tests += file.tests
            for (seed, types) in file.seedColumnTypes { seedColumnTypes[seed] = types }
        }
    }
}
