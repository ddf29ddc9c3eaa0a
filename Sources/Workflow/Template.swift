import Foundation

/// `{{ name }}` substitution in commands, env and `with:` values. Unknown names are errors, never empty strings.
public enum Template {
    /// Variables every task sees, besides `params.NAME`.
    public static let variables = [
        "ds", "ds_nodash", "logical_date", "data_interval_start", "data_interval_end",
        "run_id", "dag_id", "task_id", "try_number",
    ]

    public struct Failure: Error, Sendable, Equatable, CustomStringConvertible {
        public let message: String
        public var description: String { message }
    }

    /// The names referenced in `text`, in order; throws on an unclosed `{{`.
    public static func references(in text: String) throws(Failure) -> [String] {
        var names: [String] = []
        var rest = Substring(text)
        while let open = rest.range(of: "{{") {
            guard let close = rest[open.upperBound...].range(of: "}}") else {
                throw Failure(message: "unclosed '{{' in \"\(text)\"")
            }
            names.append(rest[open.upperBound..<close.lowerBound].trimmingCharacters(in: .whitespaces))
            rest = rest[close.upperBound...]
        }
        return names
    }

    /// Checks every reference against the known variables and the declared params.
    public static func validate(_ text: String, params: Set<String>) throws(Failure) {
        for name in try references(in: text) {
            if variables.contains(name) { continue }
            if name.hasPrefix("params.") {
                let param = String(name.dropFirst("params.".count))
                if params.contains(param) { continue }
                throw Failure(message: "unknown param '\(param)' in {{ \(name) }} (declare it under params:)")
            }
            throw Failure(message: "unknown template variable '\(name)' (known: \(variables.joined(separator: ", ")), params.NAME)")
        }
    }

    /// Replaces every `{{ name }}` with its value from `values` (keys as in `variables`, and `params.NAME`).
    public static func render(_ text: String, values: [String: String]) throws(Failure) -> String {
        guard text.contains("{{") else { return text }
        var out = ""
        var rest = Substring(text)
        while let open = rest.range(of: "{{") {
            guard let close = rest[open.upperBound...].range(of: "}}") else {
                throw Failure(message: "unclosed '{{' in \"\(text)\"")
            }
            out += rest[..<open.lowerBound]
            let name = rest[open.upperBound..<close.lowerBound].trimmingCharacters(in: .whitespaces)
            guard let value = values[name] else { throw Failure(message: "unknown template variable '\(name)'") }
            out += value
            rest = rest[close.upperBound...]
        }
        return out + rest
    }
}

/// The values of one task attempt, for templates and for the child's environment.
public struct TemplateContext: Sendable, Equatable {
    public var values: [String: String]

    public init(dag: DAG, taskId: String, runId: String, logicalDate: Date, interval: DateInterval,
                params: [String: ConfigValue], tryNumber: Int) {
        let zone = dag.timetable.timeZone
        let ds = DateParsing.day(logicalDate, in: zone)
        var values: [String: String] = [
            "ds": ds,
            "ds_nodash": ds.replacingOccurrences(of: "-", with: ""),
            "logical_date": DateParsing.iso(logicalDate, in: zone),
            "data_interval_start": DateParsing.iso(interval.start, in: zone),
            "data_interval_end": DateParsing.iso(interval.end, in: zone),
            "run_id": runId,
            "dag_id": dag.dagId,
            "task_id": taskId,
            "try_number": String(tryNumber),
        ]
        for (name, value) in dag.params.merging(params, uniquingKeysWith: { $1 }) {
            values["params.\(name)"] = value.textForm
        }
        self.values = values
    }

    /// `ORCHESTRATOR_DS=…`, `ORCHESTRATOR_PARAM_SOURCE_DIR=…`: the same values for the child process.
    public var environment: [String: String] {
        var env: [String: String] = [:]
        for (name, value) in values {
            let key = name.hasPrefix("params.")
                ? "ORCHESTRATOR_PARAM_" + name.dropFirst("params.".count).uppercased()
                : "ORCHESTRATOR_" + name.uppercased()
            env[key] = value
        }
        return env
    }
}
