import Foundation
import SQLiteDirect

/// SQL text written by users (gold models, quality tests) with templates: `{{ ref('model') }}` becomes the
/// model's quoted table name, and `{{ ds }}`, `{{ data_interval_start }}`, `{{ data_interval_end }}` become the
/// named parameters `:ds`, `:data_interval_start`, `:data_interval_end`, bound by SQLite when the statement runs,
/// so no value is ever spliced into SQL text.
///
/// Where a template sits decides what it becomes:
/// - outside quotes: the parameter (`WHERE ds = {{ ds }}` → `WHERE ds = :ds`);
/// - the whole of a string literal: the parameter (`'{{ ds }}'` → `:ds`);
/// - inside a longer literal: the literal split around it, joined with `||`
///   (`'{{ ds }}T00:00:00'` → `(:ds || 'T00:00:00')`);
/// - in a comment: the parameter's name (harmless);
/// - in a double-quoted identifier: an error.
struct SQLTemplate {
    var sql: String
    /// Models named by `ref(…)`, in order of appearance.
    var references: [String]
    /// Tables named by `source('name', 'table')` (models.run only), in order of appearance.
    var sources: [SourceReference] = []

    /// `{{ source('silver', 'events') }}`: a table the models read but do not build.
    struct SourceReference: Hashable, Sendable {
        let source: String
        let table: String
        /// The relation it reads: `<source>_<table>`, or the seed's own name for `source('seeds', …)`.
        var relation: String { source == "seeds" ? table : "\(source)_\(table)" }
    }

    static let parameterNames = ["ds", "data_interval_start", "data_interval_end"]

    /// `where` names the text in errors (a file, or a file and a field). `placeholder` writes a parameter where
    /// the engine reads it: SQLite's `:ds` (the default), DuckDB's `getvariable('ds')` (`DuckDBDatabase`).
    init(_ text: String, where source: String, allowReferences: Bool, allowSources: Bool = false,
         placeholder: (String) -> String = { ":" + $0 }) throws(TransformError) {
        let start: UInt8 = 0x01, end: UInt8 = 0x02  // sentinels around a parameter's index
        guard !text.utf8.contains(start), !text.utf8.contains(end) else {
            throw TransformError("\(source): the SQL contains a control character (U+0001 or U+0002)")
        }
        // Pass 1: templates out (they may hold quotes, as ref('x') does).
        var marked = ""
        var references: [String] = []
        var sources: [SourceReference] = []
        var rest = Substring(text)
        while let open = rest.range(of: "{{") {
            marked += rest[..<open.lowerBound]
            guard let close = rest.range(of: "}}", range: open.upperBound..<rest.endIndex) else {
                throw TransformError("\(source): '{{' without a closing '}}'")
            }
            let expression = rest[open.upperBound..<close.lowerBound].trimmingCharacters(in: .whitespaces)
            if expression.hasPrefix("ref("), expression.hasSuffix(")") {
                guard allowReferences else { throw TransformError("\(source): ref() is only for gold models") }
                let target = expression.dropFirst(4).dropLast().trimmingCharacters(in: CharacterSet(charactersIn: "'\" "))
                references.append(target)
                marked += TableLoader.quote(target)
            } else if allowSources, expression.hasPrefix("source("), expression.hasSuffix(")") {
                let arguments = expression.dropFirst(7).dropLast().split(separator: ",")
                    .map { $0.trimmingCharacters(in: CharacterSet(charactersIn: "'\" ")) }
                guard arguments.count == 2, !arguments[0].isEmpty, !arguments[1].isEmpty else {
                    throw TransformError("\(source): '{{ \(expression) }}' must be source('name', 'table')")
                }
                let reference = SourceReference(source: arguments[0], table: arguments[1])
                sources.append(reference)
                marked += TableLoader.quote(reference.relation)
            } else if let index = Self.parameterNames.firstIndex(of: expression) {
                marked += "\u{01}\(index)\u{02}"
            } else {
                let known = (allowReferences ? ["ref('model')"] : []) + (allowSources ? ["source('name', 'table')"] : []) + Self.parameterNames
                throw TransformError("\(source): unknown template '{{ \(expression) }}' (use \(known.joined(separator: ", ")))")
            }
            rest = rest[close.upperBound...]
        }
        marked += rest
        // Pass 2: where each parameter sits.
        let bytes = Array(marked.utf8)
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count)
        var index = 0
        /// The parameter whose sentinel starts at `at`, and where the sentinel ends.
        func parameter(at: Int) -> (name: String, next: Int) {
            var cursor = at + 1
            var number = 0
            while bytes[cursor] != end { number = number * 10 + Int(bytes[cursor] - 0x30); cursor += 1 }
            return (Self.parameterNames[number], cursor + 1)
        }
        func append(_ text: String) { output.append(contentsOf: text.utf8) }
        while index < bytes.count {
            let byte = bytes[index]
            let next: UInt8? = index + 1 < bytes.count ? bytes[index + 1] : nil
            if byte == start {
                let (name, after) = parameter(at: index)
                append(placeholder(name))
                index = after
            } else if byte == 0x27 {  // 'literal', with '' for a quote
                var pieces: [(isParameter: Bool, text: String)] = []
                var literal: [UInt8] = []
                var cursor = index + 1
                var closed = false
                while cursor < bytes.count {
                    let current = bytes[cursor]
                    if current == 0x27 {
                        if cursor + 1 < bytes.count && bytes[cursor + 1] == 0x27 { literal += [0x27, 0x27]; cursor += 2; continue }
                        closed = true
                        cursor += 1
                        break
                    }
                    if current == start {
                        if !literal.isEmpty { pieces.append((false, String(decoding: literal, as: UTF8.self))); literal = [] }
                        let (name, after) = parameter(at: cursor)
                        pieces.append((true, name))
                        cursor = after
                        continue
                    }
                    literal.append(current)
                    cursor += 1
                }
                guard closed else { throw TransformError("\(source): a string literal is not closed") }
                if !pieces.isEmpty && !literal.isEmpty { pieces.append((false, String(decoding: literal, as: UTF8.self))) }
                if pieces.isEmpty {
                    output.append(contentsOf: bytes[index..<cursor])
                } else if pieces.count == 1 {
                    append(placeholder(pieces[0].text))
                } else {
                    append("(" + pieces.map { $0.isParameter ? placeholder($0.text) : "'" + $0.text + "'" }.joined(separator: " || ") + ")")
                }
                index = cursor
            } else if byte == 0x22 {  // "identifier"
                var cursor = index + 1
                while cursor < bytes.count && bytes[cursor] != 0x22 {
                    if bytes[cursor] == start { throw TransformError("\(source): a template inside a double-quoted identifier") }
                    cursor += 1
                }
                cursor = min(cursor + 1, bytes.count)
                output.append(contentsOf: bytes[index..<cursor])
                index = cursor
            } else if byte == 0x2D && next == 0x2D || byte == 0x2F && next == 0x2A {  // -- line or /* block */ comment
                let isLine = byte == 0x2D
                var cursor = index + 2
                while cursor < bytes.count {
                    if isLine && bytes[cursor] == 0x0A { break }
                    if !isLine && bytes[cursor] == 0x2A && cursor + 1 < bytes.count && bytes[cursor + 1] == 0x2F { cursor += 2; break }
                    if bytes[cursor] == start {
                        let (name, after) = parameter(at: cursor)
                        append(String(decoding: bytes[index..<cursor], as: UTF8.self) + name)
                        index = after
                        cursor = after
                        continue
                    }
                    cursor += 1
                }
                cursor = min(cursor, bytes.count)
                output.append(contentsOf: bytes[index..<cursor])
                index = cursor
            } else {
                output.append(byte)
                index += 1
            }
        }
        sql = String(decoding: output, as: UTF8.self)
        self.references = references
        self.sources = sources
    }

    /// The values of the parameters for this run; `ds` must be a real calendar date (`YYYY-MM-DD`).
    static func arguments(_ context: TransformContext) throws(TransformError) -> [String: SQLiteValue] {
        try TransformContext.checkDS(context.ds)
        return [
            "ds": .text(context.ds),
            "data_interval_start": .text(DateFields.isoUTC(epochSeconds: Int(context.dataIntervalStart.timeIntervalSince1970))),
            "data_interval_end": .text(DateFields.isoUTC(epochSeconds: Int(context.dataIntervalEnd.timeIntervalSince1970))),
        ]
    }
}
