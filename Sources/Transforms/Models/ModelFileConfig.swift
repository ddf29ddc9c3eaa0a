import Foundation

/// The configuration a model or singular test file carries itself: dbt's `{{ config(materialized='table', …) }}`
/// or header comments (`-- materialized: table`, `-- partition_by: week_start`, `-- tags: a, b`,
/// `-- severity: warn`) before the SQL begins. Unknown keys are errors, so a typo does not silently build a view.
struct ModelFileConfig: Equatable {
    var values: [String: String] = [:]
    var tags: [String] = []
    /// The file's text without its `config(…)` block (header comments stay: they are comments).
    var remainingSQL = ""

    static let keys = ["materialized", "partition_by", "tags", "severity"]

    init(values: [String: String] = [:], tags: [String] = [], remainingSQL: String = "") {
        self.values = values
        self.tags = tags
        self.remainingSQL = remainingSQL
    }

    init(parsing text: String, file: String) throws(TransformError) {
        var rest = Substring(text)
        // Header comments: the leading `--` lines (blank lines between them allowed).
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty { continue }
            guard trimmed.hasPrefix("--") else { break }
            let body = trimmed.dropFirst(2).trimmingCharacters(in: .whitespaces)
            guard let colon = body.firstIndex(of: ":") else { continue }
            let key = body[..<colon].trimmingCharacters(in: .whitespaces).lowercased()
            guard Self.keys.contains(key) else { continue }  // an ordinary comment that happens to hold a colon
            let value = body[body.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            try set(key, value, file: file)
        }
        // `{{ config(…) }}` as the first thing after the header comments.
        if let open = rest.range(of: "{{"), rest[..<open.lowerBound].split(separator: "\n").allSatisfy({ line in
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            return trimmed.isEmpty || trimmed.hasPrefix("--")
        }), let close = rest.range(of: "}}", range: open.upperBound..<rest.endIndex) {
            let expression = rest[open.upperBound..<close.lowerBound].trimmingCharacters(in: .whitespacesAndNewlines)
            if expression.hasPrefix("config("), expression.hasSuffix(")") {
                try parseCall(String(expression.dropFirst(7).dropLast()), file: file)
                // Keep the line count, so that line numbers of the SQL still match the file.
                let removed = rest[open.lowerBound..<close.upperBound].filter { $0 == "\n" }.count
                rest = rest[..<open.lowerBound] + String(repeating: "\n", count: removed) + rest[close.upperBound...]
            }
        }
        remainingSQL = String(rest)
    }

    private mutating func set(_ key: String, _ value: String, file: String) throws(TransformError) {
        guard Self.keys.contains(key) else {
            throw TransformError("\(file): config key '\(key)' is unknown (keys: \(Self.keys.joined(separator: ", ")))")
        }
        if key == "tags" {
            tags = value.split(separator: ",").map { $0.trimmingCharacters(in: CharacterSet(charactersIn: "[]'\" ")) }.filter { !$0.isEmpty }
        } else {
            values[key] = value.trimmingCharacters(in: CharacterSet(charactersIn: "'\" "))
        }
    }

    /// `materialized='incremental', partition_by='week_start', tags=['a', 'b']`: keyword arguments with quoted
    /// values or a list of them.
    private mutating func parseCall(_ arguments: String, file: String) throws(TransformError) {
        var index = arguments.startIndex
        func skipSpaces() { while index < arguments.endIndex, arguments[index].isWhitespace || arguments[index] == "," { index = arguments.index(after: index) } }
        func quoted() throws(TransformError) -> String {
            guard index < arguments.endIndex, arguments[index] == "'" || arguments[index] == "\"" else {
                throw TransformError("\(file): config(…): values must be quoted ('table')")
            }
            let quote = arguments[index]
            index = arguments.index(after: index)
            let start = index
            while index < arguments.endIndex, arguments[index] != quote { index = arguments.index(after: index) }
            guard index < arguments.endIndex else { throw TransformError("\(file): config(…): a quoted value is not closed") }
            let value = String(arguments[start..<index])
            index = arguments.index(after: index)
            return value
        }
        skipSpaces()
        while index < arguments.endIndex {
            let start = index
            while index < arguments.endIndex, arguments[index] != "=" { index = arguments.index(after: index) }
            guard index < arguments.endIndex else { throw TransformError("\(file): config(…): expected key='value'") }
            let key = arguments[start..<index].trimmingCharacters(in: .whitespaces).lowercased()
            index = arguments.index(after: index)
            while index < arguments.endIndex, arguments[index].isWhitespace { index = arguments.index(after: index) }
            if index < arguments.endIndex, arguments[index] == "[" {
                index = arguments.index(after: index)
                var list: [String] = []
                while true {
                    skipSpaces()
                    guard index < arguments.endIndex else { throw TransformError("\(file): config(…): a list is not closed") }
                    if arguments[index] == "]" { index = arguments.index(after: index); break }
                    list.append(try quoted())
                }
                try set(key, list.joined(separator: ","), file: file)
            } else {
                try set(key, try quoted(), file: file)
            }
            skipSpaces()
        }
    }

    func materialization(file: String) throws(TransformError) -> Materialization? {
        guard let text = values["materialized"] else { return nil }
        guard let value = Materialization(rawValue: text.lowercased()) else {
            throw TransformError("\(file): materialized '\(text)' is not one of \(Materialization.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return value
    }
}
