import Foundation
import Yams

/// The declarative rules of `silver.clean`, from a YAML file next to the DAG:
///
/// ```yaml
/// tables:
///   clients:
///     key: [client_id]                      # dedupe: the last row with a key wins
///     columns:
///       - { name: client_id, type: int, required: true }
///       - { name: email, type: string, required: true, lowercase: true, pattern: "^[^@ ]+@[^@ ]+$" }
///       - { name: country, type: string, uppercase: true, accepted_values: [FR, DE, ES] }
///       - { name: signup_date, type: date, formats: ["%Y-%m-%d", "%d/%m/%Y"] }
///   purchases:
///     key: [purchase_id]
///     columns:
///       - { name: client_id, type: int, required: true, references: clients.client_id }
///       - { name: unit_price, type: decimal, min: 0 }
/// ```
public struct CleaningRules: Sendable {
    public var tables: [String: TableRules]

    public struct TableRules: Sendable {
        public var name: String
        public var key: [String]
        public var columns: [ColumnRule]
    }

    public enum ColumnType: String, Sendable, CaseIterable {
        case string, int, decimal, bool, date, timestamp
    }

    public struct ColumnRule: Sendable {
        public var name: String
        /// The header of the raw column, when it differs from `name`.
        public var source: String
        public var type: ColumnType
        public var required = false
        public var trim = true
        public var lowercase = false
        public var uppercase = false
        public var formats: [DatePattern] = []
        /// Zone of timestamps written without an offset (default UTC).
        public var timeZone: TimeZone = TimeZone(secondsFromGMT: 0) ?? .current
        public var minimum: Double?
        public var maximum: Double?
        public var acceptedValues: Set<String>?
        public var pattern: String?
        public var references: (table: String, column: String)?
        /// Decimal places kept for decimals (rounded half away from zero); nil keeps them all.
        public var scale: Int?
    }

    static let tableFields = ["key", "columns"]
    static let columnFields = ["name", "source", "type", "required", "trim", "lowercase", "uppercase", "formats", "timezone",
                               "min", "max", "accepted_values", "pattern", "references", "scale"]

    public static func load(path: String) throws(TransformError) -> CleaningRules {
        let file = try YAMLFile(path: path)
        var tables: [String: TableRules] = [:]
        let top = try file.map(file.root, "rules", allowed: ["tables"])
        guard let tablesNode = top.first(where: { $0.key == "tables" })?.node else {
            throw file.fail(file.root, "tables", "is required")
        }
        for (tableName, tableNode) in try file.map(tablesNode, "tables") {
            let field = "tables.\(tableName)"
            do { try Naming.check(tableName, what: "table", operation: "silver.clean") } catch { throw file.fail(tableNode, field, error.description) }
            var table = TableRules(name: tableName, key: [], columns: [])
            var keyNode = tableNode
            for (key, node) in try file.map(tableNode, field, allowed: tableFields) {
                switch key {
                case "key": table.key = try file.strings(node, "\(field).key"); keyNode = node
                default:
                    for (index, columnNode) in try file.list(node, "\(field).columns").enumerated() {
                        table.columns.append(try column(columnNode, field: "\(field).columns[\(index)]", file: file))
                    }
                }
            }
            guard !table.columns.isEmpty else { throw file.fail(tableNode, "\(field).columns", "is required") }
            let names = Set(table.columns.map(\.name))
            for key in table.key where !names.contains(key) {
                throw file.fail(keyNode, "\(field).key", "'\(key)' is not one of the table's columns")
            }
            tables[tableName] = table
        }
        return CleaningRules(tables: tables)
    }

    static func column(_ node: Node, field: String, file: YAMLFile) throws(TransformError) -> ColumnRule {
        let entries = try file.map(node, field, allowed: columnFields)
        guard let nameNode = entries.first(where: { $0.key == "name" })?.node else { throw file.fail(node, "\(field).name", "is required") }
        let name = try file.string(nameNode, "\(field).name")
        do { try Naming.check(name, what: "column", operation: "silver.clean") } catch { throw file.fail(nameNode, "\(field).name", error.description) }
        var rule = ColumnRule(name: name, source: name, type: .string)
        for (key, value) in entries {
            let path = "\(field).\(key)"
            switch key {
            case "name": break
            case "source": rule.source = try file.string(value, path)
            case "type":
                let text = try file.string(value, path)
                guard let type = ColumnType(rawValue: text) else {
                    throw file.fail(value, path, "'\(text)' is not a type (\(ColumnType.allCases.map(\.rawValue).joined(separator: ", ")))")
                }
                rule.type = type
            case "required": rule.required = try file.bool(value, path)
            case "trim": rule.trim = try file.bool(value, path)
            case "lowercase": rule.lowercase = try file.bool(value, path)
            case "uppercase": rule.uppercase = try file.bool(value, path)
            case "formats":
                for (index, text) in try file.strings(value, path).enumerated() {
                    do { rule.formats.append(try DatePattern(text)) } catch { throw file.fail(value, "\(path)[\(index)]", error.description) }
                }
            case "timezone":
                let text = try file.string(value, path)
                guard let zone = TimeZone(identifier: text) else { throw file.fail(value, path, "'\(text)' is not an IANA time zone") }
                rule.timeZone = zone
            case "min": rule.minimum = try file.number(value, path)
            case "max": rule.maximum = try file.number(value, path)
            case "accepted_values": rule.acceptedValues = Set(try file.strings(value, path))
            case "pattern":
                let text = try file.string(value, path)
                guard (try? NSRegularExpression(pattern: text)) != nil else { throw file.fail(value, path, "'\(text)' is not a regular expression") }
                rule.pattern = text
            case "references":
                let text = try file.string(value, path)
                let parts = text.split(separator: ".")
                guard parts.count == 2 else { throw file.fail(value, path, "'\(text)' must be TABLE.COLUMN") }
                rule.references = (String(parts[0]), String(parts[1]))
            case "scale": rule.scale = try file.int(value, path)
            default: break
            }
        }
        if rule.formats.isEmpty && (rule.type == .date || rule.type == .timestamp) {
            rule.formats = rule.type == .date ? [DatePattern.isoDate] : [DatePattern.isoTimestamp, DatePattern.isoTimestampWithZone]
        }
        return rule
    }
}
