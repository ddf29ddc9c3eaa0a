import Foundation
import MetadataStore
import SecretMasking
import Transforms
import WebStatus
import Workflow
import YAMLLimits
import Yams

/// The daemon's configuration: one YAML file (`--config`, `ORCHESTRATOR_CONFIG`, or
/// `/etc/orchestrator/orchestrator.yaml` when it exists), every key overridable by an `ORCHESTRATOR_…`
/// environment variable, and command-line flags over both.
///
/// ```yaml
/// home: /var/lib/orchestrator
/// dags: /etc/orchestrator/dags
/// lake: s3://lake-bucket/prod   # or a folder; default HOME/lake
/// warehouse: duckdb:///var/lib/orchestrator/analytics.duckdb   # or sqlite:///…; default sqlite HOME/warehouse.db
/// parallelism: 32
/// grace_period: 60s
/// log_level: info            # debug, info, warning, error
/// log_format: logfmt         # logfmt or json
/// pools: { warehouse: 4 }
/// connections: { social_db: "postgres://user:password@127.0.0.1:5432/social" }
/// ```
struct Configuration {
    var file: String?
    var values: [String: Setting] = [:]
    var pools: [String: Int] = [:]
    var connections: [String: String] = [:]
    /// Named notification targets: `notifications: { ops: { url: https://…, format: slack } }`.
    var notificationTargets: [String: (url: String, slack: Bool)] = [:]

    struct Setting {
        var value: String
        /// Where it came from: the file and line, an environment variable, or the default.
        var source: String
    }

    static let defaultPath = "/etc/orchestrator/orchestrator.yaml"
    static let nodeTimeoutBounds: ClosedRange<Double> = 10...3600
    /// From 100 ms (an idle pass is a few reads) to a minute (how late another node's work may be noticed).
    static let storePollBounds: ClosedRange<Double> = 0.1...60
    static let keys: [(key: String, environment: String, fallback: String)] = [
        ("home", "ORCHESTRATOR_HOME", "~/.orchestrator"),
        ("dags", "ORCHESTRATOR_DAGS", "./dags"),
        // The metadata store's URL (StoreFactory); empty: sqlite:///<home>/orchestrator.db.
        ("store", "ORCHESTRATOR_STORE", ""),
        // Where transforms keep bronze, silver and gold: a folder, file:///path or s3://bucket/prefix; empty: HOME/lake.
        ("lake", "ORCHESTRATOR_LAKE", ""),
        // Where load.warehouse and quality.check write and read: sqlite:///path or duckdb:///path; empty: HOME/warehouse.db.
        ("warehouse", "ORCHESTRATOR_WAREHOUSE", ""),
        ("parallelism", "ORCHESTRATOR_PARALLELISM", "32"),
        // This daemon's name among the nodes sharing the store (NodeName); empty: the host name.
        ("node_name", "ORCHESTRATOR_NODE_NAME", ""),
        // Another node silent this long is declared lost by this one, and its running attempts fail ("node lost").
        ("node_timeout", "ORCHESTRATOR_NODE_TIMEOUT", "30s"),
        // The longest a scheduler waits before reading the store again, for work other nodes created or unblocked.
        ("store_poll_interval", "ORCHESTRATOR_STORE_POLL_INTERVAL", "1s"),
        ("grace_period", "ORCHESTRATOR_GRACE_PERIOD", "60s"),
        ("log_level", "ORCHESTRATOR_LOG_LEVEL", "info"),
        ("log_format", "ORCHESTRATOR_LOG_FORMAT", "logfmt"),
        ("web_address", "ORCHESTRATOR_WEB_ADDRESS", "127.0.0.1:8080"),
        // The bearer token that turns on the web actions (trigger, clear, pause); empty: actions are off.
        ("web_token", "ORCHESTRATOR_WEB_TOKEN", ""),
        // Slow or idle clients are disconnected, and open connections are capped (WebLimits).
        ("web_header_timeout", "ORCHESTRATOR_WEB_HEADER_TIMEOUT", "10s"),
        ("web_idle_timeout", "ORCHESTRATOR_WEB_IDLE_TIMEOUT", "30s"),
        ("web_max_connections", "ORCHESTRATOR_WEB_MAX_CONNECTIONS", "128"),
        // Comma-separated Host names answered besides the address and loopback (for 0.0.0.0 or a LAN address).
        ("web_allowed_hosts", "ORCHESTRATOR_WEB_ALLOWED_HOSTS", ""),
        // Where other nodes reach this node's web server for the logs of its attempts (NodeAddress); empty: derived
        // from web_address.
        ("advertise_url", "ORCHESTRATOR_ADVERTISE_URL", ""),
        // The secret the nodes share to read each other's attempt logs; a secret of its own, apart from web_token
        // (docs/decisions/0014-node-logs.md). Empty: this node neither serves its logs to others nor fetches theirs.
        ("node_token", "ORCHESTRATOR_NODE_TOKEN", ""),
    ]

    /// Loads the file (when there is one) and applies the environment over it.
    static func load(path explicit: String?, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> Configuration {
        var configuration = Configuration()
        let fromEnvironment = environment["ORCHESTRATOR_CONFIG"].flatMap { $0.isEmpty ? nil : $0 }
        // ORCHESTRATOR_CONFIG=none: no file, only the environment and the defaults.
        let path = explicit ?? (fromEnvironment == "none" ? nil : fromEnvironment)
            ?? (fromEnvironment == nil && FileManager.default.fileExists(atPath: defaultPath) ? defaultPath : nil)
        if let path {
            configuration.file = path
            try configuration.read(path: path)
        }
        for (key, variable, fallback) in keys {
            if let value = environment[variable], !value.isEmpty {
                configuration.values[key] = Setting(value: value, source: "environment \(variable)")
            } else if configuration.values[key] == nil {
                configuration.values[key] = Setting(value: fallback, source: "default")
            }
        }
        for (name, value) in environment where name.hasPrefix("ORCHESTRATOR_CONN_") && !value.isEmpty {
            configuration.connections[String(name.dropFirst("ORCHESTRATOR_CONN_".count)).lowercased()] = value
        }
        try configuration.validate()
        return configuration
    }

    mutating func read(path: String) throws {
        let text: String
        do { text = try YAMLBudget.readText(path: path) } catch {
            throw CLIError(error == .tooLarge ? "\(path): \(error.message)" : "cannot read the configuration \(path)")
        }
        let root: Node?
        do {
            root = try YAMLBudget.compose(text)
        } catch let error as YAMLBudget.Exceeded {
            throw CLIError("\(path)\(error.line.map { ":\($0)" } ?? ""): \(error.message)")
        } catch {
            throw CLIError("\(path): not valid YAML: \(String(describing: error).split(separator: "\n").first ?? "")")
        }
        guard let root else { return }
        guard case .mapping(let mapping) = root else { throw CLIError("\(path):1: the configuration must be a map of settings") }
        let known = Self.keys.map(\.key) + ["pools", "connections", "notifications"]
        for (keyNode, valueNode) in mapping {
            let line = keyNode.mark?.line ?? 0
            guard let key = keyNode.string, known.contains(key) else {
                throw CLIError("\(path):\(line): \(keyNode.string ?? "?"): unknown setting (settings: \(known.joined(separator: ", ")))")
            }
            switch key {
            case "notifications":
                guard case .mapping(let entries) = valueNode else { throw CLIError("\(path):\(line): notifications: must be a map of targets") }
                for (nameNode, entry) in entries {
                    let entryLine = nameNode.mark?.line ?? line
                    guard let name = nameNode.string, case .mapping(let fields) = entry else {
                        throw CLIError("\(path):\(entryLine): notifications: each target is NAME: { url: …, format: json|slack }")
                    }
                    var url: String?, format = "json"
                    for (fieldNode, fieldValue) in fields {
                        switch fieldNode.string {
                        case "url": url = fieldValue.string
                        case "format": format = fieldValue.string ?? ""
                        default: throw CLIError("\(path):\(fieldNode.mark?.line ?? entryLine): notifications.\(name).\(fieldNode.string ?? "?"): unknown field (url, format)")
                        }
                    }
                    guard let url, url.hasPrefix("http://") || url.hasPrefix("https://") else {
                        throw CLIError("\(path):\(entryLine): notifications.\(name).url: needs an http(s) URL")
                    }
                    guard format == "json" || format == "slack" else {
                        throw CLIError("\(path):\(entryLine): notifications.\(name).format: '\(format)' is not json or slack")
                    }
                    notificationTargets[name] = (url, format == "slack")
                }
            case "pools", "connections":
                guard case .mapping(let entries) = valueNode else { throw CLIError("\(path):\(line): \(key): must be a map") }
                for (nameNode, entry) in entries {
                    let entryLine = nameNode.mark?.line ?? line
                    guard let name = nameNode.string, let value = entry.string else {
                        throw CLIError("\(path):\(entryLine): \(key): entries must be NAME: VALUE")
                    }
                    if key == "pools" {
                        guard let slots = Int(value), DagLimits.poolSlots.contains(slots) else {
                            throw CLIError("\(path):\(entryLine): pools.\(name): '\(value)' is not a number of slots \(DagLimits.describe(DagLimits.poolSlots))")
                        }
                        pools[name] = slots
                    } else {
                        connections[name.lowercased()] = value
                    }
                }
            default:
                guard let value = valueNode.string else { throw CLIError("\(path):\(line): \(key): must be a single value") }
                values[key] = Setting(value: value, source: "\(path):\(valueNode.mark?.line ?? line)")
            }
        }
    }

    func validate() throws {
        func check(_ key: String, _ valid: (String) -> Bool, _ expected: String) throws {
            guard let setting = values[key] else { return }
            // A warehouse URL may hold a password (a PostgreSQL one is refused, but named in the error).
            let shown = Self.secretKeys.contains(key) ? "***" : key == "warehouse" ? Self.masked(setting.value) : setting.value
            guard valid(setting.value) else { throw CLIError("\(setting.source): \(key): '\(shown)' is not \(expected)") }
        }
        try check("parallelism", { Int($0).map(DagLimits.parallelism.contains) ?? false },
                  "a whole number \(DagLimits.describe(DagLimits.parallelism))")
        try check("node_name", { $0.isEmpty || NodeName.isValid($0) },
                  "a node name (1 to \(NodeName.maximumLength) letters, digits, '.', '-' or '_')")
        try check("node_timeout", { DurationParser.seconds($0).map(Configuration.nodeTimeoutBounds.contains) ?? false },
                  "a duration from 10s to 1h (30s, 2m)")
        try check("store_poll_interval", { DurationParser.seconds($0).map(Configuration.storePollBounds.contains) ?? false },
                  "a duration from 100ms to 1m (1s, 500ms)")
        try check("grace_period", { DurationParser.seconds($0).map { $0 <= DagLimits.longestGracePeriod } ?? false },
                  "a duration of at most 24 hours (60s, 5m)")
        try check("warehouse", { $0.isEmpty || (($0.hasPrefix("sqlite://") || $0.hasPrefix("duckdb://")) && $0.count > "sqlite://".count) },
                  "sqlite:///path or duckdb:///path")
        try check("log_level", { ["debug", "info", "warning", "error"].contains($0) }, "one of debug, info, warning, error")
        try check("log_format", { ["logfmt", "json"].contains($0) }, "logfmt or json")
        try check("web_address", { Self.hostAndPort($0) != nil || $0 == "off" }, "HOST:PORT (or off)")
        let timeouts = WebLimits.timeoutBounds, openConnections = WebLimits.connectionBounds
        for key in ["web_header_timeout", "web_idle_timeout"] {
            try check(key, { DurationParser.seconds($0).map(timeouts.contains) ?? false },
                      "a duration from \(timeouts.lowerBound)s to \(Int(timeouts.upperBound))s (10s, 1m)")
        }
        try check("web_max_connections", { Int($0).map(openConnections.contains) ?? false },
                  "a whole number from \(openConnections.lowerBound) to \(openConnections.upperBound)")
        try check("web_allowed_hosts", { Self.allowedHosts($0).allSatisfy(WebLimits.isAllowableHostName) },
                  "a comma-separated list of host names or addresses without ports (status.example.org, 192.168.1.10)")
        // A short token is guessable; the check names the rule, never the value.
        try check("web_token", { $0.isEmpty || ($0.count >= 16 && !$0.contains(where: \.isWhitespace)) },
                  "empty (actions off) or at least 16 characters without spaces")
        try check("node_token", { $0.isEmpty || ($0.count >= 16 && !$0.contains(where: \.isWhitespace)) },
                  "empty (no logs shared between nodes) or at least 16 characters without spaces")
        if let setting = values["advertise_url"], !setting.value.isEmpty {
            do { _ = try NodeAddress(parsing: setting.value) } catch {
                throw CLIError("\(setting.source): advertise_url: '\(SecretMasker.masked(setting.value))' \(error) (expected \(NodeAddress.expected))")
            }
            if value("web_address") == "off" {
                throw CLIError("\(setting.source): advertise_url: set, but web_address is off: nothing would answer there")
            }
        }
        for (name, url) in connections where !url.contains("://") {
            throw CLIError("connection \(name): '\(Self.masked(url))' is not a URL (postgres://…, sqlite:///…, https://…)")
        }
    }

    func value(_ key: String) -> String { values[key]?.value ?? "" }

    /// Settings whose values are never shown, not even in an error.
    static let secretKeys: Set<String> = ["web_token", "node_token"]

    /// Where other nodes reach this one: `advertise_url` as checked, or `http://` and the bound address and port (a
    /// wildcard address replaced by the host name); nil when neither gives one (port 0 not bound yet).
    func advertisedAddress(bindHost: String, boundPort: Int?, configuredPort: Int) throws -> NodeAddress? {
        let configured = value("advertise_url")
        if !configured.isEmpty {
            do { return try NodeAddress(parsing: configured) } catch { throw CLIError("advertise_url: \(error)") }
        }
        return NodeAddress.derived(bindHost: bindHost, port: boundPort ?? configuredPort, machineHostName: Self.machineHostName())
    }

    static func machineHostName() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The web server's timeouts, connection cap and Host allow-list (checked by `validate`).
    func webLimits() throws -> WebLimits {
        guard let header = DurationParser.seconds(value("web_header_timeout")), let idle = DurationParser.seconds(value("web_idle_timeout")),
              let connections = Int(value("web_max_connections")) else {
            throw CLIError("web_header_timeout, web_idle_timeout and web_max_connections must be checked before use")
        }
        var limits = WebLimits(headerTimeout: header, idleTimeout: idle, maxConnections: connections)
        limits.allowedHosts = Self.allowedHosts(value("web_allowed_hosts"))
        return limits
    }

    static func allowedHosts(_ text: String) -> [String] {
        text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    /// `127.0.0.1:8080` → ("127.0.0.1", 8080); `[::1]:8080` too.
    static func hostAndPort(_ text: String) -> (host: String, port: Int)? {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (0...65_535).contains(port) else { return nil }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return host.isEmpty ? nil : (host, port)
    }

    /// Passwords and tokens of URLs replaced by ***, parsed the way libpq reads them (see Connections).
    static func masked(_ url: String) -> String {
        Connections.redacted(url)
    }

    /// Whether a variable of the launch environment holds a secret no task may see (`SecretMasker.isSecretVariable`,
    /// the one rule the scheduler's worker environment uses too). Read into the configuration at start, then
    /// scrubbed from the process (`ProcessSecrets`).
    static func isSecretVariable(name: String, value: String) -> Bool {
        SecretMasker.isSecretVariable(name: name, value: value)
    }
}

