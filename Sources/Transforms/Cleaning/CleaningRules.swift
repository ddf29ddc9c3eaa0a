import Foundation
import Yams

/// The declarative rules of `silver.clean`, from a YAML file next to the DAG:
///
/// ```yaml
/// tables:
///   clients:
///     key: [client_id]                      # dedupe: the last row with a key wins
///     max_reject_ratio: 0.3                 # more rejects (duplicates aside) fail the task; default 0.5
///     allow_empty: false                    # true: a day without data rows publishes an empty partition
///     format: parquet                       # data.parquet instead of data.csv (default: the task's, else csv)
///     columns:
///       - { name: client_id, type: int, required: true }
///       - { name: email, type: string, required: true, lowercase: true, pattern: "^[^@ ]+@[^@ ]+$" }
///       - { name: country, type: string, uppercase: true, accepted_values: [FR, DE, ES] }
///       - { name: signup_date, type: date, formats: ["%d/%m/%Y"] }  # ISO 8601 is always read
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
        public var currency: CurrencyConversion?
        /// Above this share of rejected rows (duplicates aside) the task fails and nothing is published.
        public var maxRejectRatio = 0.5
        /// A day whose bronze files hold no data row publishes an empty partition instead of failing.
        public var allowEmpty = false
        /// `format:` of the table (csv or parquet); nil leaves it to silver.clean's option or the DAG's default.
        public var format: LakeFormat?

        /// The output columns: the declared ones, then the converted amount if any.
        public var outputColumns: [(name: String, type: ColumnType)] {
            columns.map { ($0.name, $0.type) } + (currency.map { [($0.output, .decimal)] } ?? [])
        }
    }

    /// `currency: { amount: amount, currency: currency, rates: rates.csv, output: amount_eur, scale: 2 }`:
    /// adds `output` = amount × the currency's rate (from a `currency,rate` CSV next to the rules file);
    /// a row whose currency has no rate is rejected (rule `currency`).
    public struct CurrencyConversion: Sendable {
        public var amountColumn: String
        public var currencyColumn: String
        public var rates: [String: Double]
        public var output: String
        public var scale: Int?
    }

    public enum ColumnType: String, Sendable, CaseIterable {
        case string, int, decimal, bool, date, timestamp, uuid
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
        /// Forms read besides the ISO 8601 ones (`ISODateParser`), tried after them.
        public var formats: [DatePattern] = []
        /// Zone of timestamps written without an offset, and of the dates taken from timestamps (default UTC).
        public var timeZone: TimeZone = TimeZone(secondsFromGMT: 0) ?? .current
        public var minimum: Double?
        public var maximum: Double?
        public var acceptedValues: Set<String>?
        public var pattern: String?
        public var references: (table: String, column: String)?
        /// Decimal places kept for decimals (rounded half away from zero); nil keeps them all.
        public var scale: Int?
    }

    static let tableFields = ["key", "columns", "currency", "max_reject_ratio", "allow_empty", "format"]
    static let columnFields = ["name", "source", "type", "required", "trim", "lowercase", "uppercase", "formats", "timezone",
                               "min", "max", "accepted_values", "pattern", "references", "scale"]

    public static func load(path: String) throws(TransformError) -> CleaningRules {
        let file = try YAMLFile(path: path)
        var tables: [String: TableRules] = [:]
        var referenceFields: [(table: String, column: Int, field: String)] = []
        var referenceLines: [String: Int] = [:]
        let top = try file.map(file.root, "rules", allowed: ["tables"])
        guard let tablesNode = top.first(where: { $0.key == "tables" })?.node else {
            throw file.fail(file.root, "tables", "is required")
        }
        for (tableName, tableNode) in try file.map(tablesNode, "tables") {
            let field = "tables.\(tableName)"
            do { try Naming.check(tableName, what: "table", operation: "silver.clean") } catch { throw file.fail(tableNode, field, error.description) }
            var table = TableRules(name: tableName, key: [], columns: [])
            var keyNode = tableNode
            var currencyNode: Node?
            for (key, node) in try file.map(tableNode, field, allowed: tableFields) {
                switch key {
                case "key": table.key = try file.strings(node, "\(field).key"); keyNode = node
                case "currency": currencyNode = node
                case "max_reject_ratio":
                    let ratio = try file.number(node, "\(field).max_reject_ratio")
                    guard ratio >= 0 && ratio <= 1 else { throw file.fail(node, "\(field).max_reject_ratio", "must be between 0 and 1 (got \(ratio))") }
                    table.maxRejectRatio = ratio
                case "allow_empty": table.allowEmpty = try file.bool(node, "\(field).allow_empty")
                case "format":
                    let text = try file.string(node, "\(field).format")
                    do { table.format = try LakeFormat.parse(text, where: "format") } catch {
                        throw file.fail(node, "\(field).format", "'\(text.prefix(40))' is not a lake format (csv or parquet)")
                    }
                default:
                    for (index, columnNode) in try file.list(node, "\(field).columns").enumerated() {
                        let columnField = "\(field).columns[\(index)]"
                        table.columns.append(try column(columnNode, field: columnField, file: file))
                        if let reference = try file.map(columnNode, columnField).first(where: { $0.key == "references" }) {
                            referenceLines["\(columnField).references"] = reference.node.mark?.line ?? 0
                        }
                    }
                }
            }
            guard !table.columns.isEmpty else { throw file.fail(tableNode, "\(field).columns", "is required") }
            if let currencyNode {
                table.currency = try currency(currencyNode, field: "\(field).currency", file: file, columns: Set(table.columns.map(\.name)))
            }
            let names = Set(table.columns.map(\.name))
            for key in table.key where !names.contains(key) {
                throw file.fail(keyNode, "\(field).key", "'\(key)' is not one of the table's columns")
            }
            tables[tableName] = table
            for (index, column) in table.columns.enumerated() where column.references != nil {
                referenceFields.append((tableName, index, "\(field).columns[\(index)].references"))
            }
        }
        // Every `references:` names a declared column of a declared table.
        for (tableName, index, field) in referenceFields {
            guard let column = tables[tableName]?.columns[index], let reference = column.references else { continue }
            let line = referenceLines["\(field)"] ?? 0
            guard let target = tables[reference.table] else {
                throw TransformError("\(file.path):\(line): \(field): table '\(reference.table)' has no rules (tables: \(tables.keys.sorted().joined(separator: ", ")))")
            }
            guard let targetColumn = target.columns.first(where: { $0.name == reference.column }) else {
                throw TransformError("\(file.path):\(line): \(field): '\(reference.column)' is not a column of \(reference.table) (columns: \(target.columns.map(\.name).joined(separator: ", ")))")
            }
            // Integer keys compare as numbers, others as text: a mix would reject every row.
            guard (column.type == .int) == (targetColumn.type == .int) else {
                throw TransformError("\(file.path):\(line): \(field): \(column.name) is \(column.type.rawValue) but \(reference.table).\(reference.column) is \(targetColumn.type.rawValue)")
            }
        }
        return CleaningRules(tables: tables)
    }

    static func currency(_ node: Node, field: String, file: YAMLFile, columns: Set<String>) throws(TransformError) -> CurrencyConversion {
        let entries = Dictionary(try file.map(node, field, allowed: ["amount", "currency", "rates", "output", "scale"]).map { ($0.key, $0.node) },
                                 uniquingKeysWith: { a, _ in a })
        func text(_ key: String) throws(TransformError) -> String {
            guard let value = entries[key] else { throw file.fail(node, "\(field).\(key)", "is required") }
            return try file.string(value, "\(field).\(key)")
        }
        let amount = try text("amount"), currency = try text("currency"), output = try text("output")
        for (key, name) in [("amount", amount), ("currency", currency)] where !columns.contains(name) {
            throw file.fail(node, "\(field).\(key)", "'\(name)' is not one of the table's columns")
        }
        do { try Naming.check(output, what: "output column", operation: "silver.clean") } catch { throw file.fail(node, "\(field).output", error.description) }
        let ratesPath = try text("rates")
        let resolved = ratesPath.hasPrefix("/") ? ratesPath : ((file.path as NSString).deletingLastPathComponent as NSString).appendingPathComponent(ratesPath)
        var rates: [String: Double] = [:]
        let reader = try wrap { () throws(CSVReader.Failure) in try CSVReader(path: resolved) }
        let header = try wrap { () throws(CSVReader.Failure) in try reader.next() } ?? []
        guard header.map({ $0.lowercased() }) == ["currency", "rate"] else {
            throw TransformError("\(resolved): the header must be currency,rate (got \(header.joined(separator: ",")))")
        }
        while let row = try wrap({ () throws(CSVReader.Failure) in try reader.next() }) {
            guard row.count == 2, let rate = Double(row[1].trimmingCharacters(in: .whitespaces)), rate > 0 else {
                throw TransformError("\(resolved):\(reader.line): '\(row.joined(separator: ","))' is not currency,rate with a positive rate")
            }
            rates[row[0].trimmingCharacters(in: .whitespaces).uppercased()] = rate
        }
        return CurrencyConversion(amountColumn: amount, currencyColumn: currency, rates: rates, output: output,
                                  scale: try entries["scale"].map { (n: Node) throws(TransformError) -> Int in try file.int(n, "\(field).scale") })
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
        // Fields that only mean something for some types: an error rather than silently ignored.
        func given(_ key: String) -> Node? { entries.first { $0.key == key }?.node }
        let onlyFor: [(key: String, types: [ColumnType])] = [
            ("formats", [.date, .timestamp]), ("timezone", [.date, .timestamp]), ("scale", [.decimal]),
            ("min", [.int, .decimal]), ("max", [.int, .decimal]),
        ]
        for (key, types) in onlyFor where !types.contains(rule.type) {
            if let value = given(key) {
                throw file.fail(value, "\(field).\(key)", "applies to \(types.map(\.rawValue).joined(separator: " and ")) columns only (this one is \(rule.type.rawValue))")
            }
        }
        if rule.lowercase && rule.uppercase, let value = given("uppercase") {
            throw file.fail(value, "\(field).uppercase", "cannot be set together with lowercase")
        }
        if let scale = rule.scale, !(0...15).contains(scale), let value = given("scale") {
            throw file.fail(value, "\(field).scale", "must be between 0 and 15 (got \(scale))")
        }
        return rule
    }
}
