/// One problem found in a DAG file, located by line and field.
public struct DagIssue: Sendable, Hashable, CustomStringConvertible {
    public let line: Int?
    public let field: String
    public let message: String

    public init(line: Int?, field: String, message: String) {
        self.line = line
        self.field = field
        self.message = message
    }

    public var description: String { field.isEmpty ? message : "\(field): \(message)" }
}

/// Why a DAG file could not be loaded: every problem found in it, each with its line.
public struct DagLoadError: Error, Sendable, Equatable, CustomStringConvertible {
    public let file: String
    public let issues: [DagIssue]

    public init(file: String, issues: [DagIssue]) {
        self.file = file
        self.issues = issues
    }

    /// `dags/shop.yaml:14: tasks[2].retry_delay: '5 minutes' is not a duration (try 5m)`, one per line.
    public var description: String {
        issues.map { issue in
            let location = issue.line.map { "\(file):\($0)" } ?? file
            return "\(location): \(issue)"
        }.joined(separator: "\n")
    }
}
