import Foundation
import Transforms

/// Proposes a `silver.clean` rules block from a sample of a CSV file: a type per column (with the date
/// formats it saw), `required` for columns never empty, a key candidate and `accepted_values` for columns with
/// few distinct values. A starting point to review, not a verdict: the sample may not show every shape.
struct RulesSuggester {
    /// A type is proposed when at least this share of a column's non-empty values fit it (the rest is dirt).
    static let fitShare = 0.9
    /// `accepted_values` for at most this many distinct values, seen over at least `minimumRowsForValues` rows.
    static let maximumAcceptedValues = 12
    static let minimumRowsForValues = 50
    static let keyShare = 0.95

    struct Column {
        var header: String
        var values: [String] = []     // trimmed, non-empty
        var empty = 0
    }

    struct Suggestion {
        var name: String
        var header: String
        var type: String
        var formats: [String] = []
        var required = false
        var acceptedValues: [String]?
        var misfits = 0
    }

    let table: String
    let columns: [Column]
    /// The rule name of each column, distinct: `Order ID` and `order_id` would both be `order_id`.
    let names: [String]
    let rows: Int

    /// Reads the header and up to `limit` records of `path`.
    init(path: String, table: String, limit: Int) throws {
        let reader: CSVReader
        do { reader = try CSVReader(path: path) } catch { throw CLIError(error.description) }
        do {
            guard let header = try reader.next(), !(header.count == 1 && header[0].isEmpty) else { throw CLIError("\(path): the file is empty (no header line)") }
            var seen: [String: Int] = [:]
            for (index, name) in header.enumerated() {
                let cleaned = name.trimmingCharacters(in: .whitespaces)
                guard !cleaned.isEmpty else { throw CLIError("\(path):1: column \(index + 1) has no name") }
                if let other = seen[cleaned] { throw CLIError("\(path):1: column \(index + 1) '\(cleaned)' repeats column \(other + 1)") }
                seen[cleaned] = index
            }
            var columns = header.map { Column(header: $0.trimmingCharacters(in: .whitespaces)) }
            var rows = 0
            while rows < limit, let record = try reader.next() {
                if record.count == 1 && record[0].isEmpty { continue }  // blank line
                rows += 1
                for index in columns.indices {
                    let value = index < record.count ? record[index].trimmingCharacters(in: .whitespaces) : ""
                    if value.isEmpty { columns[index].empty += 1 } else { columns[index].values.append(value) }
                }
            }
            self.columns = columns
            self.names = Self.distinctRuleNames(columns.map(\.header))
            self.rows = rows
        } catch let error as CSVReader.Failure {
            throw CLIError(error.description)
        }
        self.table = table
    }

    func suggestions() -> [Suggestion] {
        zip(columns, names).map { column, name in
            var suggestion = Suggestion(name: name, header: column.header, type: "string")
            suggestion.required = rows > 0 && column.empty == 0
            if let (type, formats, misfits) = Self.detectType(column.values) {
                suggestion.type = type
                suggestion.formats = formats
                suggestion.misfits = misfits
            }
            if suggestion.type == "string", column.values.count >= Self.minimumRowsForValues {
                let distinct = Set(column.values)
                if distinct.count <= Self.maximumAcceptedValues { suggestion.acceptedValues = distinct.sorted() }
            }
            return suggestion
        }
    }

    /// The first column whose values are all there and distinct, preferring `id` and `…_id`; real samples carry
    /// dirt (a missing id, a row exported twice), so "all" means 95 % of the rows.
    func keyCandidate() -> String? {
        let unique = zip(columns, names).filter { column, _ in
            !column.values.isEmpty && Double(Set(column.values).count) >= Self.keyShare * Double(rows)
        }.map(\.1)
        return unique.first { $0 == "id" || $0.hasSuffix("_id") } ?? unique.first
    }

    /// The rules block, as YAML that `silver.clean` reads.
    func yaml(source: String) -> String {
        var lines = [
            "# Suggested by `orchestrator rules suggest` from the first \(rows) row(s) of \(source).",
            "# A start: review the types, add min/max, patterns and references (see docs/transforms.md).",
            "tables:",
            "  \(Self.ruleName(table)):",
        ]
        let key = keyCandidate()
        if let key { lines.append("    key: [\(key)]") }
        lines.append("    columns:")
        for column in suggestions() {
            var fields = ["name: \(column.name)"]
            if column.name != column.header { fields.append("source: \(Self.quote(column.header))") }
            fields.append("type: \(column.type)")
            if column.required || column.name == key { fields.append("required: true") }
            if !column.formats.isEmpty { fields.append("formats: [\(column.formats.map(Self.quote).joined(separator: ", "))]") }
            if let values = column.acceptedValues { fields.append("accepted_values: [\(values.map(Self.quote).joined(separator: ", "))]") }
            var line = "      - { \(fields.joined(separator: ", ")) }"
            if column.misfits > 0 { line += "  # \(column.misfits) value(s) in the sample are not \(column.type): rejected as they are" }
            lines.append(line)
        }
        return lines.joined(separator: "\n") + "\n"
    }

    // MARK: Type detection

    static func detectType(_ values: [String]) -> (type: String, formats: [String], misfits: Int)? {
        guard !values.isEmpty else { return nil }
        func fit(_ test: (String) -> Bool) -> Int? {
            let misfits = values.count - values.lazy.filter(test).count
            return Double(values.count - misfits) >= fitShare * Double(values.count) ? misfits : nil
        }
        if let misfits = fit(ColumnValueChecks.isUUID) { return ("uuid", [], misfits) }
        if let misfits = fit(isInteger) { return ("int", [], misfits) }
        if let misfits = fit(isDecimal) { return ("decimal", [], misfits) }
        if let misfits = fit({ ["true", "false"].contains($0.lowercased()) }) { return ("bool", [], misfits) }
        let shapes = values.map(DateShape.of)
        let dated = shapes.filter { $0 != nil }.count
        guard Double(dated) >= fitShare * Double(values.count) else { return nil }
        let known = shapes.compactMap { $0 }
        // Mostly dates alone: a date column (a timestamp in it keeps its UTC date); else timestamps.
        let dateOnly = known.filter { !$0.hasTime }.count
        let type = 2 * dateOnly >= known.count ? "date" : "timestamp"
        // Slashed dates: day first unless some value can only be month first (a second number above 12).
        let slashed = known.filter { $0.slashed }
        let monthFirst = !slashed.isEmpty && slashed.contains { $0.second > 12 } && !slashed.contains { $0.first > 12 }
        var formats: [String] = []
        if slashed.contains(where: { !$0.hasTime }) { formats.append(monthFirst ? "%m/%d/%Y" : "%d/%m/%Y") }
        if slashed.contains(where: { $0.hasTime }) { formats.append(monthFirst ? "%m/%d/%Y %H:%M:%S" : "%d/%m/%Y %H:%M:%S") }
        return (type, formats, values.count - dated)
    }

    /// An integer that stays one: no leading zero (codes such as `00123` are strings), fits 64 bits.
    static func isInteger(_ text: String) -> Bool {
        let digits = text.hasPrefix("-") || text.hasPrefix("+") ? text.dropFirst() : Substring(text)
        guard !digits.isEmpty, digits.utf8.allSatisfy({ (0x30...0x39).contains($0) }), Int64(text) != nil else { return false }
        return digits.count == 1 || !digits.hasPrefix("0")
    }

    /// Digits with a decimal point (a decimal comma is not a decimal: such a column stays a string).
    static func isDecimal(_ text: String) -> Bool {
        let body = text.hasPrefix("-") || text.hasPrefix("+") ? text.dropFirst() : Substring(text)
        let parts = body.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2 || parts.count == 1, !(parts.first ?? "").isEmpty else { return false }
        return parts.allSatisfy { !$0.isEmpty && $0.utf8.allSatisfy { (0x30...0x39).contains($0) } }
    }

    /// A rules name for a header: lowercase letters, digits and underscores.
    static func ruleName(_ header: String) -> String {
        var name = ""
        for scalar in header.lowercased().unicodeScalars {
            if ("a"..."z").contains(scalar) || ("0"..."9").contains(scalar) { name.unicodeScalars.append(scalar) } else if !name.hasSuffix("_") { name += "_" }
        }
        while name.hasSuffix("_") { name.removeLast() }
        if name.isEmpty || name.first?.isNumber == true { name = "c_" + name }
        return name
    }

    /// `ruleName` of each header, with `_2`, `_3`… after a name an earlier column already has.
    static func distinctRuleNames(_ headers: [String]) -> [String] {
        var taken = Set<String>()
        return headers.map { header in
            let base = ruleName(header)
            var name = base
            var suffix = 2
            while taken.contains(name) {
                name = "\(base)_\(suffix)"
                suffix += 1
            }
            taken.insert(name)
            return name
        }
    }

    static func quote(_ text: String) -> String {
        "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }
}
