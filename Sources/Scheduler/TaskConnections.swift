import SecretMasking
import Workflow

/// Which connections a task's worker receives: the names in its `connections:` field, and for a transform or a
/// sensor the one its `with:` names (`connection`, and `target` for load.warehouse) as written in the DAG file,
/// never as rendered: run params (`trigger --param`) must not steer a task to another configured connection. A
/// templated name therefore grants nothing, and the transform reports the rendered name as not configured. Each
/// reaches the task as `ORCHESTRATOR_CONN_<NAME>`; every other connection stays in the scheduler.
public enum TaskConnections {
    public struct Failure: Error, Sendable, CustomStringConvertible {
        public let message: String
        public var description: String { message }
    }

    /// Options of `with:` that name a connection.
    static let optionKeys = ["connection", "target"]

    /// The variables to add to the worker's environment. A name in `connections:` that is not configured fails the
    /// task with a message naming it (DAG files are validated without the daemon's configuration); a transform's
    /// unknown connection is left to the transform, which says so itself (or skips an `optional` load).
    public static func environment(for task: TaskDefinition, connections: [String: String]) throws(Failure) -> [String: String] {
        var granted: [String: String] = [:]
        for name in task.connections {
            guard let url = connections[name.lowercased()] else {
                let known = connections.keys.sorted()
                throw Failure(message: "task '\(task.id)' names connection '\(name)' in connections:, which is not configured"
                              + " (set ORCHESTRATOR_CONN_\(name.uppercased()) or connections: in the configuration"
                              + (known.isEmpty ? ")" : "; configured: \(known.joined(separator: ", ")))"))
            }
            granted[variable(name)] = url
        }
        let written: ConfigValue?
        switch task.action {
        case .command: written = nil
        case .transform(_, let with): written = with
        case .sensor(let sensor): written = sensor.options
        }
        if case .object(let values)? = written {
            for key in optionKeys {
                guard case .string(let name)? = values[key], let url = connections[name.lowercased()] else { continue }
                granted[variable(name)] = url
            }
        }
        return granted
    }

    /// The lake's S3 credentials for a task that uses the lake: a transform (`orchestrator transform …` reads and
    /// publishes partitions). A command or a sensor gets none; it has no business with the daemon's cloud keys.
    public static func lakeEnvironment(for task: TaskDefinition, credentials: [String: String]) -> [String: String] {
        guard case .transform = task.action else { return [:] }
        return credentials.filter { SecretMasker.lakeCredentialVariables.contains($0.key) }
    }

    static func variable(_ name: String) -> String { "ORCHESTRATOR_CONN_\(name.uppercased())" }

    /// The environment without any secret variable: connections, the web token, and whatever else the daemon
    /// scrubs from itself (the same predicate).
    public static func withoutSecrets(_ environment: [String: String]) -> [String: String] {
        environment.filter { !SecretMasker.isSecretVariable(name: $0.key, value: $0.value) }
    }
}
