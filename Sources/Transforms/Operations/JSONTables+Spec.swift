import Foundation
import Yams

extension JSONTables {
    /// One output table of a `json.tables` spec file.
    struct Table {
        enum Origin {
            /// Every line of a bronze table (`SOURCE/TABLE`) of the run's day.
            case bronze(source: String, table: String)
            /// One row for the run's day itself (a date dimension).
            case day
        }

        let name: String
        let origin: Origin
        /// A dotted path to an array in each record: one row per element (a bridge), none when absent or empty.
        let each: String?
        let key: [String]
        let columns: [Column]
        let allowEmpty: Bool
    }

    struct Column {
        enum Source {
            /// A dotted path from the element (`id`), or from the record's root with `$.` (`$.id`).
            case path(String, fromRoot: Bool)
            /// A part of the run's day.
            case day(DayPart)
        }

        enum DayPart: String, CaseIterable {
            case date, date_id, year, month, day, iso_weekday
        }

        enum Kind: String, CaseIterable {
            case int, real, text, date, date_id
            /// The type written to `_schema.json`, which the loads map to their engine's.
            var schemaType: String {
                switch self {
                case .int, .date_id: return "integer"
                case .real: return "real"
                case .text, .date: return "text"
                }
            }
        }

        let name: String
        let source: Source
        let kind: Kind
        let required: Bool
        /// A CSV shipped with the DAG: the value is looked up in its `key` column and replaced by its `value` column
        /// (NULL when absent).
        let lookup: [String: String]?
    }

    /// Reads the spec; every error names the file, the line and the field.
    static func readSpec(_ path: String, context: TransformContext) throws(TransformError) -> [Table] {
        let file = try YAMLFile(path: path)
        var tables: [Table] = []
        for (key, node) in try file.map(file.root, "", allowed: ["tables"]) where key == "tables" {
            for (name, tableNode) in try file.map(node, "tables") {
                let field = "tables.\(name)"
                guard (try? Naming.check(name, what: "table", operation: Self.name)) != nil else {
                    throw file.fail(tableNode, field, "table names are letters, digits and _")
                }
                var origin: Table.Origin?
                var each: String?, key: [String] = [], columns: [Column] = [], allowEmpty = false
                for (property, value) in try file.map(tableNode, field, allowed: ["from", "each", "key", "columns", "allow_empty"]) {
                    switch property {
                    case "from":
                        let text = try file.string(value, "\(field).from")
                        if text == "ds" {
                            origin = .day
                        } else {
                            let parts = text.split(separator: "/").map(String.init)
                            guard parts.count == 2, parts.allSatisfy({ (try? Naming.check($0, what: "from", operation: Self.name)) != nil }) else {
                                throw file.fail(value, "\(field).from", "'\(text)' is neither a bronze table SOURCE/TABLE nor ds")
                            }
                            origin = .bronze(source: parts[0], table: parts[1])
                        }
                    case "each": each = try file.string(value, "\(field).each")
                    case "key": key = try file.strings(value, "\(field).key")
                    case "allow_empty": allowEmpty = try file.bool(value, "\(field).allow_empty")
                    default:
                        for (columnName, columnNode) in try file.map(value, "\(field).columns") {
                            columns.append(try readColumn(columnName, columnNode, field: "\(field).columns.\(columnName)", file: file, context: context))
                        }
                    }
                }
                guard let origin else { throw file.fail(tableNode, "\(field).from", "is required (SOURCE/TABLE or ds)") }
                guard !columns.isEmpty else { throw file.fail(tableNode, "\(field).columns", "needs at least one column") }
                for name in key where !columns.contains(where: { $0.name == name }) {
                    throw file.fail(tableNode, "\(field).key", "'\(name)' is not one of its columns")
                }
                tables.append(Table(name: name, origin: origin, each: each, key: key, columns: columns, allowEmpty: allowEmpty))
            }
        }
        guard !tables.isEmpty else { throw TransformError("\(path): 'tables' declares no table") }
        return tables
    }

    static func readColumn(_ name: String, _ node: Node, field: String, file: YAMLFile, context: TransformContext) throws(TransformError) -> Column {
        guard (try? Naming.check(name, what: "column", operation: Self.name)) != nil else {
            throw file.fail(node, field, "column names are letters, digits and _")
        }
        // `title: title` is short for `title: { path: title }`.
        if case .scalar(let scalar) = node { return Column(name: name, source: pathSource(scalar.string), kind: .text, required: false, lookup: nil) }
        var source: Column.Source?, kind: Column.Kind?, required = false, lookup: [String: String]?
        for (property, value) in try file.map(node, field, allowed: ["path", "ds", "type", "required", "lookup"]) {
            switch property {
            case "path": source = pathSource(try file.string(value, "\(field).path"))
            case "ds":
                let text = try file.string(value, "\(field).ds")
                guard let part = Column.DayPart(rawValue: text) else {
                    throw file.fail(value, "\(field).ds", "'\(text)' is not one of \(Column.DayPart.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                source = .day(part)
                kind = kind ?? ([.date].contains(part) ? .text : .int)
            case "type":
                let text = try file.string(value, "\(field).type")
                guard let parsed = Column.Kind(rawValue: text) else {
                    throw file.fail(value, "\(field).type", "'\(text)' is not one of \(Column.Kind.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                kind = parsed
            case "required": required = try file.bool(value, "\(field).required")
            default: lookup = try readLookup(value, field: "\(field).lookup", file: file, context: context)
            }
        }
        guard let source else { throw file.fail(node, field, "needs 'path' or 'ds'") }
        return Column(name: name, source: source, kind: kind ?? .text, required: required, lookup: lookup)
    }

    static func pathSource(_ text: String) -> Column.Source {
        text.hasPrefix("$.") ? .path(String(text.dropFirst(2)), fromRoot: true) : .path(text, fromRoot: false)
    }

    /// `{ file: continents.csv, key: iso_3166_1, value: continent }`, the file relative to the DAG's folder.
    static func readLookup(_ node: Node, field: String, file: YAMLFile, context: TransformContext) throws(TransformError) -> [String: String] {
        var values: [String: String] = [:]
        for (property, value) in try file.map(node, field, allowed: ["file", "key", "value"]) { values[property] = try file.string(value, "\(field).\(property)") }
        guard let csvPath = values["file"], let keyColumn = values["key"], let valueColumn = values["value"] else {
            throw file.fail(node, field, "needs file, key and value")
        }
        let path = context.resolve(csvPath)
        let reader = try wrap { () throws(CSVReader.Failure) in try CSVReader(path: path) }
        guard let header = try wrap({ () throws(CSVReader.Failure) in try reader.next() }),
              let keyIndex = header.firstIndex(of: keyColumn), let valueIndex = header.firstIndex(of: valueColumn) else {
            throw file.fail(node, field, "\(csvPath) has no columns '\(keyColumn)' and '\(valueColumn)' in its header")
        }
        var table: [String: String] = [:]
        var line = 1
        while let row = try wrap({ () throws(CSVReader.Failure) in try reader.next() }) {
            line += 1
            if row.count == 1 && row[0].isEmpty { continue }
            guard row.count > max(keyIndex, valueIndex) else { throw TransformError("\(path):\(line): fewer fields than the header") }
            guard table[row[keyIndex]] == nil else { throw TransformError("\(path):\(line): \(keyColumn) '\(row[keyIndex])' appears twice") }
            table[row[keyIndex]] = row[valueIndex]
            guard table.count <= 100_000 else { throw TransformError("\(path): more than 100000 rows for a lookup") }
        }
        return table
    }
}
