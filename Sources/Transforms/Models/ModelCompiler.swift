import Foundation

/// SQL ready for one engine, with the values of its parameters in order (`?1`/`$1` is `parameters[0]`).
struct CompiledSQL {
    var sql: String
    var parameters: [String]
}

/// Turns a project's templated SQL into an engine's: `ref()` and `source()` become quoted relation names,
/// ephemeral models become CTEs in front of the query, and the run's `ds` and interval become bound parameters
/// — or, for views, which can hold no parameter on SQLite or PostgreSQL, quoted literals of those validated
/// values (never text from data).
struct ModelCompiler {
    let project: ModelProject
    let placeholder: @Sendable (Int) -> String
    /// `ds`, `data_interval_start`, `data_interval_end` for this run.
    let values: [String: String]

    private final class Positions {
        var names: [String] = []
        func position(of name: String) -> Int {
            if let index = names.firstIndex(of: name) { return index + 1 }
            names.append(name)
            return names.count
        }
    }

    func compile(_ template: String, where origin: String, literals: Bool) throws(TransformError) -> CompiledSQL {
        let positions = Positions()
        let values = self.values
        let placeholder = self.placeholder
        func render(_ text: String, _ origin: String) throws(TransformError) -> SQLTemplate {
            try SQLTemplate(text, where: origin, allowReferences: true, allowSources: true) { name in
                literals ? DataTestSQL.literal(values[name] ?? "") : placeholder(positions.position(of: name))
            }
        }
        let main = try render(template, origin)
        // The ephemeral models it reads, directly or through other ephemeral models, in dependency order.
        var needed: Set<String> = []
        var queue = main.references
        while let name = queue.popLast() {
            guard let model = project.model(named: name), model.materialized == .ephemeral, !needed.contains(name) else { continue }
            needed.insert(name)
            queue += model.references
        }
        var ctes: [String] = []
        for model in project.models where needed.contains(model.name) {
            ctes.append("\(TableLoader.quote(model.name)) AS (\n\(try render(model.template, model.file).sql)\n)")
        }
        let sql = ctes.isEmpty ? main.sql : Self.prepend(ctes, to: main.sql)
        return CompiledSQL(sql: sql, parameters: positions.names.map { values[$0] ?? "" })
    }

    /// `WITH a AS (…), b AS (…) <query>`, joined to the query's own `WITH [RECURSIVE]` when it has one.
    static func prepend(_ ctes: [String], to sql: String) -> String {
        let list = ctes.joined(separator: ",\n")
        let body = Substring(sql)
        var start = body.startIndex
        // Skip leading comments and spaces to find the first keyword.
        while start < body.endIndex {
            let rest = body[start...]
            if rest.first?.isWhitespace == true { start = body.index(after: start); continue }
            if rest.hasPrefix("--") { start = rest.firstIndex(of: "\n") ?? body.endIndex; continue }
            if rest.hasPrefix("/*"), let close = rest.range(of: "*/") { start = close.upperBound; continue }
            break
        }
        let words = body[start...].prefix(40).split(whereSeparator: { $0.isWhitespace }).prefix(2).map { $0.uppercased() }
        guard words.first == "WITH" else { return "WITH \(list)\n\(sql)" }
        let afterWith = body.index(start, offsetBy: 4)
        if words.count > 1 && words[1] == "RECURSIVE", let recursive = body[afterWith...].range(of: "RECURSIVE", options: .caseInsensitive) {
            return String(body[..<recursive.upperBound]) + " \(list),\n" + String(body[recursive.upperBound...])
        }
        return String(body[..<afterWith]) + " \(list),\n" + String(body[afterWith...])
    }
}
