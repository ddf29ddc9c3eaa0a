import Foundation

/// What one transform run produced, for the status page's task view: each table or partition written with
/// its row count, and quality reports (silver rules, quality.check tests). The `orchestrator transform` command
/// writes it beside the attempt's log as `attempt-<n>.result.json`; nothing in it is secret.
public final class TransformResults: @unchecked Sendable {
    private let lock = NSLock()
    private var outputs: [[String: Any]] = []
    private var checks: [[String: Any]] = []
    private var problems: [[String: Any]] = []
    private var models: [[String: Any]] = []

    public init() {}

    /// One table, partition or file written, with its rows and, for cleaned tables, the quality report.
    public func output(_ target: String, rows: Int?, quality: [String: Any]? = nil) {
        var entry: [String: Any] = ["target": target, "rows": rows.map { $0 as Any } ?? NSNull()]
        if let quality { entry["quality"] = quality }
        lock.withLock { outputs.append(entry) }
    }

    /// One data-quality test and its outcome: pass, warn or fail, with its failing-row count.
    public func check(_ name: String, outcome: String, failingRows: Int) {
        lock.withLock { checks.append(["name": name, "outcome": outcome, "failing_rows": failingRows]) }
    }

    /// What the task page shows first: why the task failed (`severity` error) or what looks wrong (warning),
    /// e.g. `reject_limit`, `schema_drift`, `empty_gold`; `details` holds JSON values only.
    public func problem(_ kind: String, severity: String, message: String, details: [String: Any] = [:]) {
        lock.withLock { problems.append(["kind": kind, "severity": severity, "message": message, "details": details]) }
    }

    /// One model of a models.run project, for the lineage on the DAG's page: `{name, folder, materialized,
    /// depends_on, status, rows, tests: [{name, outcome, failing_rows}]}` (docs/models.md, "What the pages read").
    public func model(_ entry: [String: Any]) {
        lock.withLock { models.append(entry) }
    }

    public var problemList: [[String: Any]] { lock.withLock { problems } }

    public var isEmpty: Bool { lock.withLock { outputs.isEmpty && checks.isEmpty && problems.isEmpty && models.isEmpty } }

    /// Writes the results atomically as JSON (temp file and rename).
    public func write(operation: String, succeeded: Bool, to path: String) throws {
        let object: [String: Any] = lock.withLock {
            var object: [String: Any] = ["operation": operation, "succeeded": succeeded, "outputs": outputs, "checks": checks, "problems": problems]
            if !models.isEmpty { object["models"] = models }
            return object
        }
        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        try data.write(to: URL(fileURLWithPath: path), options: .atomic)
    }
}
