import Foundation
import YAMLLimits
import Yams

/// Turns the text of one DAG file into a validated `DAG`, or a `DagLoadError` listing every problem
/// with its line and field. YAML is read as nodes (not decoded) so that every error keeps its line.
public enum DagParser {
    static let dagFields: Set<String> = [
        "dag_id", "description", "schedule", "timezone", "start_date", "end_date", "catchup",
        "max_active_runs", "max_active_tasks", "params", "defaults", "tasks", "on_failure", "on_success", "sla",
    ]
    static let taskFields: Set<String> = [
        "id", "command", "transform", "with", "depends_on", "trigger_rule", "retries", "retry_delay",
        "retry_exponential_backoff", "max_retry_delay", "execution_timeout", "depends_on_past", "pool",
        "priority_weight", "env", "cwd", "sla", "sensor", "connections",
    ]
    /// Fields a `defaults:` block may set for every task.
    static let defaultableFields: Set<String> = taskFields.subtracting(["id", "command", "transform", "with", "depends_on", "sensor"])

    public static func parse(file: String) throws(DagLoadError) -> DAG {
        let text: String
        do { text = try YAMLBudget.readText(path: file) } catch {
            throw DagLoadError(file: file, issues: [DagIssue(line: nil, field: "", message: error.message)])
        }
        return try parse(text: text, file: file)
    }

    public static func parse(text: String, file: String) throws(DagLoadError) -> DAG {
        var context = ParseContext()
        let dag = context.parseDocument(text: text, file: file)
        if let dag, context.issues.isEmpty { return dag }
        var issues = context.issues.isEmpty ? [DagIssue(line: nil, field: "", message: "not a valid DAG")] : context.issues
        if context.problemCount > context.issues.count {
            issues.append(DagIssue(line: nil, field: "", message: "… and \(context.problemCount - context.issues.count) more problems "
                                   + "(the first \(ParseContext.maxReported) are shown)"))
        }
        throw DagLoadError(file: file, issues: issues)
    }
}

/// Collects issues while walking the YAML nodes, so one file reports all its problems at once.
struct ParseContext {
    var issues: [DagIssue] = []
    /// Distinct problems found; past `maxReported` they are counted, not kept (a 1 MiB file can hold 30,000).
    private(set) var problemCount = 0
    private var seen: Set<DagIssue> = []
    static let maxReported = 100

    mutating func fail(_ node: Node?, _ field: String, _ message: String) {
        let issue = DagIssue(line: node?.mark?.line, field: field, message: message)
        // A bad `defaults:` value is checked once per task: report it once.
        guard seen.insert(issue).inserted else { return }
        problemCount += 1
        if issues.count < Self.maxReported { issues.append(issue) }
    }

    mutating func parseDocument(text: String, file: String) -> DAG? {
        let root: Node?
        guard text.utf8.count <= YAMLBudget.maxFileBytes else {
            issues.append(DagIssue(line: nil, field: "", message: YAMLBudget.ReadFailure.tooLarge.message))
            return nil
        }
        do {
            root = try YAMLBudget.compose(text)
        } catch let error as YAMLBudget.Exceeded {
            issues.append(DagIssue(line: error.line, field: "", message: error.message))
            return nil
        } catch let error as YamlError {
            issues.append(Self.issue(from: error))
            return nil
        } catch {
            issues.append(DagIssue(line: nil, field: "", message: "not valid YAML: \(error)"))
            return nil
        }
        guard let root, let top = root.mapping else {
            fail(root, "", "the file must be a YAML mapping with dag_id, schedule and tasks")
            return nil
        }
        let fields = fieldMap(top, allowed: DagParser.dagFields, path: "")

        // dag_id
        var dagId = ""
        if let node = required(fields, "dag_id", path: "", parent: root) {
            if let id = string(node, "dag_id") {
                if Self.isIdentifier(id) { dagId = id } else { fail(node, "dag_id", "'\(id)' must match [a-z0-9_]+") }
            }
        }
        let description = fields["description"].flatMap { string($0, "description") }

        // timezone first: schedule and dates are read in it
        var timeZone = TimeZone(identifier: "UTC") ?? .current
        if let node = fields["timezone"], let name = string(node, "timezone") {
            if let zone = TimeZone(identifier: name) { timeZone = zone } else {
                fail(node, "timezone", "'\(name)' is not an IANA time zone (e.g. UTC, Europe/Paris)")
            }
        }
        var cron: CronExpression?
        if let node = required(fields, "schedule", path: "", parent: root), !Self.isNull(node) {
            if let text = string(node, "schedule") {
                do { cron = try CronExpression(parsing: text) } catch {
                    fail(node, "schedule", "'\(text)' is not a valid schedule: \(error.message) (use 5-field cron, @hourly, @daily, @weekly, @monthly, @yearly or null)")
                }
            }
        }
        var startDate = Date(timeIntervalSince1970: 0)
        if let node = required(fields, "start_date", path: "", parent: root), let value = date(node, "start_date", timeZone) {
            startDate = value
        }
        let endDate = fields["end_date"].flatMap { Self.isNull($0) ? nil : date($0, "end_date", timeZone) }
        if let endDate, endDate < startDate { fail(fields["end_date"], "end_date", "is before start_date") }
        let catchup = fields["catchup"].flatMap { bool($0, "catchup") } ?? true
        let maxActiveRuns = fields["max_active_runs"].flatMap { int($0, "max_active_runs", in: DagLimits.activeLimit) } ?? 16
        let maxActiveTasks = fields["max_active_tasks"].flatMap { int($0, "max_active_tasks", in: DagLimits.activeLimit) } ?? 16

        var params: [String: ConfigValue] = [:]
        if let node = fields["params"], !Self.isNull(node) {
            if let map = node.mapping {
                for (key, value) in map {
                    guard let name = key.scalar?.string, Self.isParamName(name) else {
                        fail(key, "params", "param names must match [A-Za-z_][A-Za-z0-9_]*"); continue
                    }
                    params[name] = configValue(value)
                }
            } else { fail(node, "params", "must be a mapping of names to values") }
        }

        var defaults: [String: Node] = [:]
        if let node = fields["defaults"], !Self.isNull(node) {
            if let map = node.mapping {
                defaults = fieldMap(map, allowed: DagParser.defaultableFields, path: "defaults")
            } else { fail(node, "defaults", "must be a mapping of task fields") }
        }

        var tasks: [TaskDefinition] = []
        var taskNodes: [String: (index: Int, node: Node)] = [:]
        // Tasks that exist but failed validation: their downstreams must not also report an unknown upstream.
        var invalidTaskIds: Set<String> = []
        if let node = required(fields, "tasks", path: "", parent: root) {
            if let list = node.sequence, !list.isEmpty {
                for (index, item) in list.enumerated() {
                    if let task = parseTask(item, index: index, defaults: defaults, params: Set(params.keys)) {
                        if let previous = taskNodes[task.id] {
                            fail(item, "tasks[\(index)].id", "duplicate task id '\(task.id)' (first at tasks[\(previous.index)])")
                            continue
                        }
                        taskNodes[task.id] = (index, item)
                        tasks.append(task)
                    } else if let id = item.mapping?["id"]?.scalar?.string {
                        invalidTaskIds.insert(id)
                    }
                }
            } else { fail(node, "tasks", "must be a non-empty list of tasks") }
        }

        // upstreams must exist, and the graph must be acyclic
        for task in tasks {
            for upstream in task.dependsOn where taskNodes[upstream] == nil && !invalidTaskIds.contains(upstream) {
                let index = taskNodes[task.id]?.index ?? 0
                fail(taskNodes[task.id]?.node, "tasks[\(index)].depends_on", "unknown upstream task '\(upstream)'")
            }
        }
        let ordered = topologicalOrder(tasks, nodes: taskNodes)
        guard issues.isEmpty else { return nil }
        var dag = DAG(
            dagId: dagId, description: description, filePath: file, timetable: Timetable(cron: cron, timeZone: timeZone),
            startDate: startDate, endDate: endDate, catchup: catchup, maxActiveRuns: maxActiveRuns,
            maxActiveTasks: maxActiveTasks, params: params, tasks: ordered
        )
        dag.sla = fields["sla"].flatMap { Self.isNull($0) ? nil : duration($0, "sla") }
        dag.onFailure = notificationTargets(fields["on_failure"], "on_failure")
        dag.onSuccess = notificationTargets(fields["on_success"], "on_success")
        return dag
    }

    /// `on_failure: [ops, "https://hooks.example.com/x"]`: target names (from the configuration) or webhook URLs,
    /// `slack+https://…` for Slack's message format.
    mutating func notificationTargets(_ node: Node?, _ field: String) -> [String] {
        guard let node, !Self.isNull(node) else { return [] }
        var items: [Node] = []
        if let list = node.sequence { items = Array(list) } else { items = [node] }
        var targets: [String] = []
        for item in items {
            guard let text = string(item, field) else { continue }
            let isURL = text.hasPrefix("https://") || text.hasPrefix("http://") || text.hasPrefix("slack+https://") || text.hasPrefix("slack+http://")
            if !isURL && !Self.isParamName(text) {
                fail(item, field, "'\(text)' is neither a webhook URL (https://…, slack+https://…) nor a target name"); continue
            }
            targets.append(text)
        }
        return targets
    }

    /// `sensor: { file: "data/{{ ds }}.csv", poke_interval: 30s, timeout: 2h }`, or `{ sql: "SELECT …", connection: db }`,
    /// or `{ external_task: { dag: other, task: load } }`.
    mutating func parseSensor(_ node: Node, path: String, params: Set<String>) -> SensorDefinition? {
        guard let map = node.mapping else { fail(node, path, "must be a mapping with file, sql or external_task"); return nil }
        let allowed: Set<String> = ["file", "sql", "connection", "external_task", "poke_interval", "timeout"]
        var fields: [String: Node] = [:]
        for (key, value) in map {
            guard let name = key.scalar?.string else { continue }
            guard allowed.contains(name) else { fail(key, "\(path).\(name)", "unknown field (fields: \(allowed.sorted().joined(separator: ", ")))"); continue }
            fields[name] = value
        }
        let kinds = ["file", "sql", "external_task"].filter { fields[$0] != nil }
        guard kinds.count == 1, let kind = kinds.first, let kindNode = fields[kind] else {
            fail(node, path, "needs exactly one of file, sql or external_task"); return nil
        }
        var options: [String: ConfigValue] = [:]
        switch kind {
        case "file":
            guard let text = string(kindNode, "\(path).file") else { return nil }
            checkTemplate(text, node: kindNode, field: "\(path).file", params: params)
            options["path"] = .string(text)
        case "sql":
            guard let text = string(kindNode, "\(path).sql") else { return nil }
            checkTemplate(text, node: kindNode, field: "\(path).sql", params: params)
            guard let connection = fields["connection"].flatMap({ string($0, "\(path).connection") }) else {
                fail(node, "\(path).connection", "a sql sensor needs the name of a connection"); return nil
            }
            options["query"] = .string(text)
            options["connection"] = .string(connection)
        default:
            guard let target = kindNode.mapping else { fail(kindNode, "\(path).external_task", "must be { dag: …, task: … }"); return nil }
            for (key, value) in target {
                guard let name = key.scalar?.string, name == "dag" || name == "task", let text = string(value, "\(path).external_task.\(name)") else {
                    fail(key, "\(path).external_task", "fields are dag and task"); continue
                }
                options[name] = .string(text)
            }
            guard options["dag"] != nil, options["task"] != nil else { fail(kindNode, "\(path).external_task", "needs dag and task"); return nil }
        }
        let poke = fields["poke_interval"].flatMap { duration($0, "\(path).poke_interval") } ?? 60
        let timeout = fields["timeout"].flatMap { duration($0, "\(path).timeout") } ?? 6 * 3600
        if poke <= 0 { fail(fields["poke_interval"], "\(path).poke_interval", "must be more than 0") }
        return SensorDefinition(kind: kind, options: .object(options), pokeInterval: poke, timeout: timeout)
    }

    mutating func parseTask(_ node: Node, index: Int, defaults: [String: Node], params: Set<String>) -> TaskDefinition? {
        let path = "tasks[\(index)]"
        guard let map = node.mapping else {
            fail(node, path, "each task must be a mapping with id and command or transform")
            return nil
        }
        let own = fieldMap(map, allowed: DagParser.taskFields, path: path)
        let fields = own.merging(defaults) { task, _ in task }
        func at(_ name: String) -> String { own[name] != nil ? "\(path).\(name)" : "defaults.\(name)" }

        guard let idNode = required(own, "id", path: path, parent: node), let id = string(idNode, "\(path).id") else { return nil }
        guard Self.isIdentifier(id) else {
            fail(idNode, "\(path).id", "'\(id)' must match [a-z0-9_]+")
            return nil
        }
        let problemsBefore = problemCount

        var action: TaskAction?
        if let sensorNode = own["sensor"] {
            if own["command"] != nil || own["transform"] != nil {
                fail(node, path, "task '\(id)' sets a sensor and a command or transform; keep exactly one")
            } else if let sensor = parseSensor(sensorNode, path: "\(path).sensor", params: params) {
                action = .sensor(sensor)
            }
        } else {
        switch (own["command"], own["transform"]) {
        case (let command?, nil):
            if let text = string(command, "\(path).command") {
                checkTemplate(text, node: command, field: "\(path).command", params: params)
                action = .command(text)
            }
        case (nil, let transform?):
            if let name = string(transform, "\(path).transform") {
                let with = own["with"].map { configValue($0) } ?? .object([:])
                _ = with.mapStrings { text in
                    checkTemplate(text, node: own["with"], field: "\(path).with", params: params)
                    return text
                }
                action = .transform(name: name, with: with)
            }
        case (.some, .some):
            fail(node, path, "task '\(id)' sets both command and transform; keep exactly one")
        case (nil, nil):
            fail(node, path, "task '\(id)' needs a command, a transform or a sensor")
        }
        }
        if own["with"] != nil, own["transform"] == nil {
            fail(own["with"], "\(path).with", "'with' configures a transform; this task has none")
        }

        var dependsOn: [String] = []
        if let deps = own["depends_on"], !Self.isNull(deps) {
            if let list = deps.sequence {
                for item in list {
                    if let name = string(item, "\(path).depends_on") { dependsOn.append(name) }
                }
            } else if let single = string(deps, "\(path).depends_on") {
                dependsOn = [single]
            }
            if dependsOn.contains(id) { fail(deps, "\(path).depends_on", "task '\(id)' cannot depend on itself") }
        }

        var triggerRule = TriggerRule.allSuccess
        if let node = fields["trigger_rule"], let text = string(node, at("trigger_rule")) {
            if let rule = TriggerRule(rawValue: text) { triggerRule = rule } else {
                fail(node, at("trigger_rule"), "'\(text)' is not a trigger rule (one of \(TriggerRule.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
        }
        var retry = RetryPolicy()
        if let node = fields["retries"], let value = int(node, at("retries"), in: DagLimits.retries) { retry.retries = value }
        if let node = fields["retry_delay"], let value = duration(node, at("retry_delay")) { retry.retryDelay = value }
        if let node = fields["retry_exponential_backoff"], let value = bool(node, at("retry_exponential_backoff")) {
            retry.exponentialBackoff = value
        }
        if let node = fields["max_retry_delay"], let value = duration(node, at("max_retry_delay")) { retry.maxRetryDelay = value }
        let timeout = fields["execution_timeout"].flatMap { Self.isNull($0) ? nil : duration($0, at("execution_timeout")) }
        if let timeout, timeout <= 0 { fail(fields["execution_timeout"], at("execution_timeout"), "must be more than 0") }
        let dependsOnPast = fields["depends_on_past"].flatMap { bool($0, at("depends_on_past")) } ?? false
        var pool = TaskDefinition.defaultPool
        if let node = fields["pool"], let name = string(node, at("pool")) {
            if Self.isParamName(name) { pool = name } else { fail(node, at("pool"), "'\(name)' must match [A-Za-z_][A-Za-z0-9_]*") }
        }
        let priority = fields["priority_weight"].flatMap { int($0, at("priority_weight"), in: DagLimits.priorityWeight) } ?? 1
        var env: [String: String] = [:]
        if let node = fields["env"], !Self.isNull(node) {
            if let map = node.mapping {
                for (key, value) in map {
                    guard let name = key.scalar?.string, Self.isParamName(name) else {
                        fail(key, at("env"), "environment variable names must match [A-Za-z_][A-Za-z0-9_]*"); continue
                    }
                    if let reason = DagParser.reservedEnvironmentReason(name) { fail(key, "\(at("env")).\(name)", reason); continue }
                    if let text = value.scalar?.string {
                        checkTemplate(text, node: value, field: "\(at("env")).\(name)", params: params)
                        env[name] = text
                    } else { fail(value, "\(at("env")).\(name)", "must be a string") }
                }
            } else { fail(node, at("env"), "must be a mapping of names to strings") }
        }
        let cwd = fields["cwd"].flatMap { string($0, at("cwd")) }

        let sla = fields["sla"].flatMap { Self.isNull($0) ? nil : duration($0, at("sla")) }
        let connections = connectionNames(fields["connections"], at("connections"))
        guard let action, problemCount == problemsBefore else { return nil }
        var task = TaskDefinition(
            id: id, action: action, dependsOn: dependsOn, triggerRule: triggerRule, retry: retry,
            executionTimeout: timeout, dependsOnPast: dependsOnPast, pool: pool, priorityWeight: priority, env: env, cwd: cwd
        )
        task.sla = sla
        task.connections = connections
        return task
    }

    /// Kahn's algorithm with in-degree counts, linear in tasks and edges; among ready tasks, file order is kept
    /// wave by wave (every task whose upstreams are all done, then the tasks they release). A leftover means a cycle,
    /// which is named.
    mutating func topologicalOrder(_ tasks: [TaskDefinition], nodes: [String: (index: Int, node: Node)]) -> [TaskDefinition] {
        let position = Dictionary(tasks.enumerated().map { ($1.id, $0) }, uniquingKeysWith: { first, _ in first })
        var waiting = [Int](repeating: 0, count: tasks.count)
        var downstream = [[Int]](repeating: [], count: tasks.count)
        for (index, task) in tasks.enumerated() {
            // Unknown upstreams are reported elsewhere; a repeated one counts once.
            for upstream in Set(task.dependsOn) {
                guard let up = position[upstream] else { continue }
                waiting[index] += 1
                downstream[up].append(index)
            }
        }
        var wave = tasks.indices.filter { waiting[$0] == 0 }
        var ordered: [TaskDefinition] = []
        ordered.reserveCapacity(tasks.count)
        while !wave.isEmpty {
            var next: [Int] = []
            for index in wave {
                ordered.append(tasks[index])
                for down in downstream[index] {
                    waiting[down] -= 1
                    if waiting[down] == 0 { next.append(down) }
                }
            }
            wave = next.sorted()
        }
        if ordered.count < tasks.count {
            let remaining = tasks.indices.filter { waiting[$0] > 0 }.map { tasks[$0] }
            if let cycle = Self.findCycle(in: remaining) {
                let first = cycle.first ?? ""
                let entry = nodes[first]
                fail(entry?.node, "tasks[\(entry?.index ?? 0)].depends_on", "dependency cycle: \((cycle + [first]).joined(separator: " -> "))")
            }
        }
        return ordered
    }

    static func findCycle(in tasks: [TaskDefinition]) -> [String]? {
        let byId = Dictionary(tasks.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        guard var current = tasks.first?.id else { return nil }
        // Every remaining task has a remaining upstream, so walking upstream must revisit a task.
        var path: [String] = []
        var seenAt: [String: Int] = [:]
        while seenAt[current] == nil {
            seenAt[current] = path.count
            path.append(current)
            guard let next = byId[current]?.dependsOn.first(where: { byId[$0] != nil }) else { return nil }
            current = next
        }
        return Array(path[(seenAt[current] ?? 0)...].reversed())
    }

    // MARK: - Field helpers

    /// Keys of a mapping, reporting unknown and repeated keys (with a suggestion for typos).
    mutating func fieldMap(_ map: Node.Mapping, allowed: Set<String>, path: String) -> [String: Node] {
        var fields: [String: Node] = [:]
        for (key, value) in map {
            let name = key.scalar?.string ?? ""
            let field = path.isEmpty ? name : "\(path).\(name)"
            if !allowed.contains(name) {
                let hint = Self.closest(to: name, in: allowed).map { " (did you mean '\($0)'?)" } ?? ""
                fail(key, field, "unknown field '\(name)'\(hint)")
            } else if fields[name] != nil {
                fail(key, field, "'\(name)' is set twice")
            } else {
                fields[name] = value
            }
        }
        return fields
    }

    mutating func required(_ fields: [String: Node], _ name: String, path: String, parent: Node) -> Node? {
        if let node = fields[name] { return node }
        fail(parent, path.isEmpty ? name : "\(path).\(name)", "missing required field '\(name)'")
        return nil
    }

    mutating func string(_ node: Node, _ field: String) -> String? {
        guard let scalar = node.scalar, !Self.isNull(node) else {
            fail(node, field, "must be a string")
            return nil
        }
        return scalar.string
    }

    mutating func int(_ node: Node, _ field: String) -> Int? {
        guard let text = node.scalar?.string, let value = Int(text) else {
            fail(node, field, "'\(node.scalar?.string ?? "…")' is not a whole number")
            return nil
        }
        return value
    }

    /// A whole number within its documented bounds (`DagLimits`).
    mutating func int(_ node: Node, _ field: String, in bounds: ClosedRange<Int>) -> Int? {
        guard let value = int(node, field) else { return nil }
        guard bounds.contains(value) else {
            fail(node, field, "\(value) is out of range: must be \(DagLimits.describe(bounds))"); return nil
        }
        return value
    }

    mutating func bool(_ node: Node, _ field: String) -> Bool? {
        switch node.scalar?.string.lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default:
            fail(node, field, "'\(node.scalar?.string ?? "…")' is not true or false")
            return nil
        }
    }

    /// A duration of at most `DagLimits.longestDuration` (a year), so that no delay or deadline overflows a date.
    mutating func duration(_ node: Node, _ field: String) -> Double? {
        guard let text = node.scalar?.string, let seconds = DurationParser.seconds(text) else {
            fail(node, field, "'\(node.scalar?.string ?? "…")' is not a duration (try 45s, 10m, 2h, 1h30m or a number of seconds)")
            return nil
        }
        guard seconds <= DagLimits.longestDuration else {
            fail(node, field, "'\(text)' is out of range: durations are at most 365 days"); return nil
        }
        return seconds
    }

    mutating func date(_ node: Node, _ field: String, _ zone: TimeZone) -> Date? {
        let text = node.scalar?.string ?? "…"
        do { return try DateParsing.parseChecked(text, in: zone) } catch {
            switch error {
            case .malformed: fail(node, field, "'\(text)' is not a date (try 2024-01-31 or 2024-01-31T06:00)")
            case .outOfRange: fail(node, field, "'\(text)' \(error.message)")
            }
            return nil
        }
    }

    mutating func checkTemplate(_ text: String, node: Node?, field: String, params: Set<String>) {
        do { try Template.validate(text, params: params) } catch { fail(node, field, error.message) }
    }

    func configValue(_ node: Node) -> ConfigValue {
        switch node {
        case .scalar(let scalar):
            if scalar.style != .plain { return .string(scalar.string) }
            if Self.isNull(node) { return .null }
            switch scalar.string.lowercased() {
            case "true": return .bool(true)
            case "false": return .bool(false)
            default: break
            }
            if let i = Int(scalar.string) { return .int(i) }
            if let d = Double(scalar.string), scalar.string.contains(".") { return .double(d) }
            return .string(scalar.string)
        case .sequence(let list): return .array(list.map { configValue($0) })
        case .mapping(let map):
            var object: [String: ConfigValue] = [:]
            for (key, value) in map { object[key.scalar?.string ?? ""] = configValue(value) }
            return .object(object)
        case .alias: return .null
        }
    }

    static func isNull(_ node: Node) -> Bool {
        guard let scalar = node.scalar, scalar.style == .plain || scalar.style == .any else { return false }
        return ["", "~", "null", "Null", "NULL"].contains(scalar.string)
    }

    static func isIdentifier(_ text: String) -> Bool {
        !text.isEmpty && text.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" }
    }

    static func isParamName(_ text: String) -> Bool {
        guard let first = text.unicodeScalars.first, !("0"..."9").contains(first) else { return false }
        return text.unicodeScalars.allSatisfy {
            ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "_"
        }
    }

    static func issue(from error: YamlError) -> DagIssue {
        switch error {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _), .composer(_, let problem, let mark, _):
            return DagIssue(line: mark.line, field: "", message: "not valid YAML: \(problem)")
        case .duplicatedKeysInMapping(let duplicates, let context):
            // Yams rejects repeated keys while composing; its description embeds the whole file, so rephrase.
            let keys = duplicates.map { "'\($0)'" }.joined(separator: ", ")
            return DagIssue(line: context.mark.line, field: "", message: "not valid YAML: \(keys) set more than once in the same mapping")
        default:
            return DagIssue(line: nil, field: "", message: "not valid YAML: \(error)")
        }
    }

    /// The allowed name within edit distance 2 of a misspelt one.
    static func closest(to name: String, in allowed: Set<String>) -> String? {
        guard name.count <= 40 else { return nil }  // no field name is that long; keeps huge keys cheap
        let candidates = allowed.map { ($0, editDistance(name, $0)) }.filter { $0.1 <= 2 }
        return candidates.min { $0.1 < $1.1 || ($0.1 == $1.1 && $0.0 < $1.0) }?.0
    }

    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous = Array(0...b.count)
        for i in 1...a.count {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }
}
