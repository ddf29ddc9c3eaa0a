import Foundation
import Yams

/// A `schema.yml` of a models project, in dbt's shape: per model a `config:` (materialized, partition_by, tags,
/// severity), model-level `tests:` (`row_count: {min, max}`) and `columns:` with their tests (`unique`,
/// `not_null`, `accepted_values: {values}`, `relationships: {to: "ref('x')", field}`), each optionally with
/// `config: {severity: warn}`; and seeds' `column_types`. `data_tests:` is read as `tests:` (dbt ≥ 1.8).
struct ModelSchemaFile {
    var configs: [String: (config: ModelFileConfig, line: Int)] = [:]
    var tests: [ModelTest] = []
    var seedColumnTypes: [String: [String: String]] = [:]

    static let modelFields = ["name", "description", "config", "tests", "data_tests", "columns", "meta", "docs"]
    static let columnFields = ["name", "description", "tests", "data_tests", "meta", "data_type", "quote"]

    init(path: String) throws(TransformError) {
        let file = try YAMLFile(path: path)
        let top = try file.map(file.root, "schema file", allowed: ["version", "models", "seeds", "sources"])
        for (key, node) in top {
            switch key {
            case "models":
                for (index, model) in try file.list(node, "models").enumerated() { try readModel(model, field: "models[\(index)]", file: file) }
            case "seeds":
                for (index, seed) in try file.list(node, "seeds").enumerated() { try readSeed(seed, field: "seeds[\(index)]", file: file) }
            default: continue
            }
        }
    }

    private mutating func readModel(_ node: Node, field: String, file: YAMLFile) throws(TransformError) {
        let entries = Dictionary(try file.map(node, field, allowed: Self.modelFields).map { ($0.key, $0.node) }, uniquingKeysWith: { a, _ in a })
        guard let nameNode = entries["name"] else { throw file.fail(node, "\(field).name", "is required") }
        let model = try file.string(nameNode, "\(field).name")
        do { try Naming.check(model, what: "model", operation: ModelsRun.name) } catch { throw file.fail(nameNode, "\(field).name", error.description) }
        var severity = "error"
        if let configNode = entries["config"] {
            let config = try Self.config(configNode, field: "\(field).config", file: file)
            configs[model] = (config, configNode.mark?.line ?? 0)
            severity = config.values["severity"] ?? severity
        }
        for key in ["tests", "data_tests"] {
            guard let list = entries[key] else { continue }
            for (index, test) in try file.list(list, "\(field).\(key)").enumerated() {
                try readTest(test, model: model, column: nil, severity: severity, field: "\(field).\(key)[\(index)]", file: file)
            }
        }
        guard let columnsNode = entries["columns"] else { return }
        for (index, columnNode) in try file.list(columnsNode, "\(field).columns").enumerated() {
            let columnField = "\(field).columns[\(index)]"
            let column = Dictionary(try file.map(columnNode, columnField, allowed: Self.columnFields).map { ($0.key, $0.node) }, uniquingKeysWith: { a, _ in a })
            guard let columnName = column["name"] else { throw file.fail(columnNode, "\(columnField).name", "is required") }
            let name = try file.string(columnName, "\(columnField).name")
            do { try Naming.check(name, what: "column", operation: ModelsRun.name) } catch { throw file.fail(columnName, "\(columnField).name", error.description) }
            for key in ["tests", "data_tests"] {
                guard let list = column[key] else { continue }
                for (testIndex, test) in try file.list(list, "\(columnField).\(key)").enumerated() {
                    try readTest(test, model: model, column: name, severity: severity, field: "\(columnField).\(key)[\(testIndex)]", file: file)
                }
            }
        }
    }

    static func config(_ node: Node, field: String, file: YAMLFile) throws(TransformError) -> ModelFileConfig {
        var config = ModelFileConfig()
        for (key, value) in try file.map(node, field, allowed: ModelFileConfig.keys + ["column_types", "enabled"]) {
            switch key {
            case "tags": config.tags = try file.strings(value, "\(field).tags")
            case "column_types", "enabled": continue
            default: config.values[key] = try file.string(value, "\(field).\(key)")
            }
        }
        if let severity = config.values["severity"], severity != "warn", severity != "error" {
            throw file.fail(node, "\(field).severity", "must be warn or error")
        }
        return config
    }

    /// One generic test: a bare name (`unique`) or a one-key map (`{accepted_values: {values: […]}}`).
    private mutating func readTest(_ node: Node, model: String, column: String?, severity inherited: String, field: String,
                                   file: YAMLFile) throws(TransformError) {
        let kind: String
        var arguments: [String: Node] = [:]
        if case .scalar(let scalar) = node {
            kind = scalar.string
        } else {
            let entries = try file.map(node, field)
            guard entries.count == 1, let only = entries.first else { throw file.fail(node, field, "must name one test") }
            kind = only.key
            if case .mapping = only.node {
                arguments = Dictionary(try file.map(only.node, "\(field).\(kind)").map { ($0.key, $0.node) }, uniquingKeysWith: { a, _ in a })
            }
        }
        var severity = inherited
        if let configNode = arguments.removeValue(forKey: "config") {
            severity = try Self.config(configNode, field: "\(field).\(kind).config", file: file).values["severity"] ?? severity
        }
        if let severityNode = arguments.removeValue(forKey: "severity") { severity = try file.string(severityNode, "\(field).\(kind).severity").lowercased() }
        guard severity == "warn" || severity == "error" else { throw file.fail(node, "\(field).severity", "must be warn or error") }
        func allow(_ keys: [String]) throws(TransformError) {
            for key in arguments.keys where !keys.contains(key) {
                throw file.fail(node, "\(field).\(kind).\(key)", "unknown field (fields: \((keys + ["config", "severity"]).joined(separator: ", ")))")
            }
        }
        func needColumn() throws(TransformError) -> String {
            guard let column else { throw file.fail(node, field, "\(kind) is a column test: put it under a column") }
            return column
        }
        let relation = "{{ ref('\(model)') }}"
        let sql: String
        var name = "\(kind)_\(model)" + (column.map { "_\($0)" } ?? "")
        var references = [model]
        switch kind {
        case "unique":
            try allow([])
            sql = DataTestSQL.unique(relation, columns: [try needColumn()])
        case "not_null":
            try allow([])
            sql = DataTestSQL.notNull(relation, column: try needColumn())
        case "accepted_values":
            try allow(["values", "quote"])
            guard let values = arguments["values"] else { throw file.fail(node, "\(field).accepted_values.values", "is required") }
            sql = DataTestSQL.acceptedValues(relation, column: try needColumn(), values: try file.strings(values, "\(field).accepted_values.values"))
        case "relationships":
            try allow(["to", "field"])
            guard let toNode = arguments["to"], let fieldNode = arguments["field"] else {
                throw file.fail(node, "\(field).relationships", "needs to: \"ref('model')\" and field:")
            }
            let to = try file.string(toNode, "\(field).relationships.to").trimmingCharacters(in: .whitespaces)
            let target: String
            if to.hasPrefix("ref("), to.hasSuffix(")") {
                target = to.dropFirst(4).dropLast().trimmingCharacters(in: CharacterSet(charactersIn: "'\" "))
            } else {
                target = to
            }
            let parentField = try file.string(fieldNode, "\(field).relationships.field")
            for (value, what) in [(target, "relationships.to"), (parentField, "relationships.field")] {
                do { try Naming.check(value, what: what, operation: ModelsRun.name) } catch { throw file.fail(node, "\(field).\(what)", error.description) }
            }
            sql = DataTestSQL.relationships(relation, column: try needColumn(), target: "{{ ref('\(target)') }}", field: parentField)
            name += "__\(target)_\(parentField)"
            references.append(target)
        case "row_count":
            try allow(["min", "max"])
            let minimum = try arguments["min"].map { (n: Node) throws(TransformError) -> Int in try file.int(n, "\(field).row_count.min") }
            let maximum = try arguments["max"].map { (n: Node) throws(TransformError) -> Int in try file.int(n, "\(field).row_count.max") }
            guard let made = DataTestSQL.rowCount(relation, minimum: minimum, maximum: maximum) else {
                throw file.fail(node, "\(field).row_count", "needs min or max")
            }
            sql = made
        default:
            throw file.fail(node, field, "unknown test '\(kind)' (tests: unique, not_null, accepted_values, relationships, row_count)")
        }
        tests.append(ModelTest(name: name, model: model, template: sql, warnOnly: severity == "warn",
                               origin: "\(file.path):\(node.mark?.line ?? 0)", references: references))
    }

    private mutating func readSeed(_ node: Node, field: String, file: YAMLFile) throws(TransformError) {
        let entries = Dictionary(try file.map(node, field, allowed: ["name", "description", "config", "column_types", "columns"]).map { ($0.key, $0.node) },
                                 uniquingKeysWith: { a, _ in a })
        guard let nameNode = entries["name"] else { throw file.fail(node, "\(field).name", "is required") }
        let name = try file.string(nameNode, "\(field).name")
        var typesNode = entries["column_types"]
        if let config = entries["config"] {
            typesNode = try file.map(config, "\(field).config").first { $0.key == "column_types" }?.node ?? typesNode
        }
        guard let typesNode else { return }
        var types: [String: String] = [:]
        for (column, value) in try file.map(typesNode, "\(field).column_types") {
            let type = try file.string(value, "\(field).column_types.\(column)").lowercased()
            guard SeedLoader.types.contains(type) else {
                throw file.fail(value, "\(field).column_types.\(column)", "'\(type)' is not a type (\(SeedLoader.types.joined(separator: ", ")))")
            }
            types[column] = type
        }
        seedColumnTypes[name] = types
    }
}
