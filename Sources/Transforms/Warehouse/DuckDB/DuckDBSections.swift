import Foundation

/// A script of several steps run in one DuckDB process, each step announced by a marker line that the CLI prints
/// (`.print`), so that its results can be told apart and a failure tied to the step that caused it (with
/// `-bail` the last marker printed is the failing step's).
struct DuckDBSections {
    static let prefix = "@@orchestrator-section "
    private(set) var script = ""

    /// Starts a step; `name` is letters, digits, `_`, `:` and `.` only (model and table names are checked).
    mutating func begin(_ name: String) {
        script += ".print \(Self.prefix)\(name)\n"
    }

    mutating func add(_ sql: String) { script += sql }

    /// Each step's result records (CSV, header first), by step name.
    static func parse(_ output: String) -> [String: [[String?]]] {
        var sections: [String: [[String?]]] = [:]
        var current: String?
        for record in DuckDBCSV.parse(output) {
            if record.count == 1, let field = record[0], field.hasPrefix(prefix) {
                current = String(field.dropFirst(prefix.count))
                sections[current ?? ""] = []
            } else if let current {
                sections[current, default: []].append(record)
            }
        }
        return sections
    }

    /// The step a failed script was in: the last marker it printed.
    static func failedStep(_ failure: DuckDBFailure) -> String? {
        DuckDBCSV.parse(failure.output).last { $0.count == 1 && ($0[0]?.hasPrefix(prefix) ?? false) }
            .flatMap { $0[0] }.map { String($0.dropFirst(prefix.count)) }
    }
}
