import Foundation
import HTTPTypes
import Hummingbird
import Logging
import MetadataStore
import Workflow

/// The daemon's HTTP side: status pages, the JSON API under /api/v1, /healthz and /metrics (Prometheus text).
/// It only reads the store. Binds 127.0.0.1 unless configured otherwise.
public final class StatusServer: @unchecked Sendable {
    let store: any MetadataStore
    /// The DAGs as the scheduler loaded them (schedules, tasks), read on each request.
    let dags: @Sendable () -> [DAG]
    let host: String
    let port: Int
    private let started = DispatchSemaphore(value: 0)
    private let lock = NSLock()
    private var boundPort: Int?
    private var failure: String?

    public init(store: any MetadataStore, host: String, port: Int, dags: @escaping @Sendable () -> [DAG]) {
        self.store = store
        self.host = host
        self.port = port
        self.dags = dags
    }

    /// Starts serving on a task of its own and waits until the port is bound; returns the bound port.
    public func start(timeout: Double = 10) throws -> Int {
        var logger = Logger(label: "orchestrator.web")
        logger.logLevel = .warning
        let router = Router()
        routes(router)
        let app = Application(
            router: router, configuration: .init(address: .hostname(host, port: port), serverName: "orchestrator"),
            onServerRunning: { [self] channel in
                lock.withLock { boundPort = channel.localAddress?.port }
                started.signal()
            }, logger: logger)
        Task.detached { [self] in
            do {
                // The daemon handles SIGTERM itself (grace period for tasks); the server must not take the signal.
                try await app.runService(gracefulShutdownSignals: [])
            } catch {
                lock.withLock { failure = "\(error)" }
                started.signal()
            }
        }
        guard started.wait(timeout: .now() + timeout) == .success else {
            throw StatusServerError(message: "the web server did not start within \(Int(timeout))s on \(host):\(port)")
        }
        return try lock.withLock { () throws -> Int in
            if let failure { throw StatusServerError(message: "cannot serve on \(host):\(port): \(failure)") }
            return boundPort ?? port
        }
    }

    func routes(_ router: Router<BasicRequestContext>) {
        router.get("/healthz") { _, _ in "ok\n" }
        router.get("/metrics") { [self] _, _ in
            Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"], body: .init(byteBuffer: .init(string: try metrics())))
        }
        router.get("/api/v1/dags") { [self] _, _ in try json(try dagsJSON()) }
        router.get("/api/v1/dags/:dag/runs") { [self] request, context in
            let dag = try dagParameter(context)
            let limit = try intParameter(request, "limit", default: 25, range: 1...1000)
            let offset = try intParameter(request, "offset", default: 0, range: 0...10_000_000)
            let runs = try store.runs(RunFilter(dagId: dag.dagId, newestFirst: true, limit: limit + offset)).dropFirst(offset)
            return try json(runs.map(Self.runJSON))
        }
        router.get("/api/v1/dags/:dag/runs/:run/tasks") { [self] _, context in
            let dag = try dagParameter(context)
            let runId = try decoded(context, "run")
            guard try store.run(dagId: dag.dagId, runId: runId) != nil else {
                throw HTTPError(.notFound, message: "DAG '\(dag.dagId)' has no run '\(runId)'")
            }
            return try json(try store.taskInstances(dagId: dag.dagId, runId: runId).map(Self.taskJSON))
        }
        router.get("/") { [self] _, _ in html(try homePage()) }
        router.get("/dags/:dag") { [self] request, context in
            let dag = try dagParameter(context)
            let offset = try intParameter(request, "offset", default: 0, range: 0...10_000_000)
            return html(try gridPage(dag, offset: offset))
        }
    }

    // MARK: Parameters

    func decoded(_ context: BasicRequestContext, _ name: String) throws -> String {
        guard let raw = context.parameters.get(name), let value = raw.removingPercentEncoding, !value.isEmpty else {
            throw HTTPError(.badRequest, message: "missing or malformed path parameter '\(name)'")
        }
        return value
    }

    func dagParameter(_ context: BasicRequestContext) throws -> DAG {
        let dagId = try decoded(context, "dag")
        guard let dag = dags().first(where: { $0.dagId == dagId }) else { throw HTTPError(.notFound, message: "unknown DAG '\(dagId)'") }
        return dag
    }

    func intParameter(_ request: Request, _ name: String, default fallback: Int, range: ClosedRange<Int>) throws -> Int {
        guard let text = request.uri.queryParameters.get(name) else { return fallback }
        guard let value = Int(text), range.contains(value) else {
            throw HTTPError(.badRequest, message: "query parameter '\(name)' must be a whole number in \(range.lowerBound)...\(range.upperBound)")
        }
        return value
    }

    // MARK: Responses

    func json(_ object: Any) throws -> Response {
        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: .init(bytes: data)))
    }

    func html(_ text: String) -> Response {
        var headers: HTTPFields = [.contentType: "text/html; charset=utf-8"]
        // Pages need nothing from elsewhere: forbid scripts and remote content outright.
        if let name = HTTPField.Name("Content-Security-Policy") { headers[name] = "default-src 'self'; style-src 'unsafe-inline'" }
        if let name = HTTPField.Name("X-Content-Type-Options") { headers[name] = "nosniff" }
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: .init(string: text)))
    }

    static func iso(_ date: Date?) -> Any { date.map(DateParsing.isoUTC) ?? NSNull() }

    static func runJSON(_ run: DagRun) -> [String: Any] {
        ["dag_id": run.dagId, "run_id": run.runId, "run_type": run.runType.rawValue, "state": run.state.rawValue,
         "logical_date": DateParsing.isoUTC(run.logicalDate), "data_interval_start": DateParsing.isoUTC(run.dataIntervalStart),
         "data_interval_end": DateParsing.isoUTC(run.dataIntervalEnd), "started_at": iso(run.startedAt), "ended_at": iso(run.endedAt)]
    }

    static func taskJSON(_ instance: TaskInstance) -> [String: Any] {
        ["task_id": instance.key.taskId, "state": instance.state.rawValue, "try_number": instance.tryNumber,
         "max_tries": instance.maxTries, "started_at": iso(instance.startedAt), "ended_at": iso(instance.endedAt),
         "duration": instance.duration ?? NSNull(), "exit_code": instance.exitCode.map { Int($0) } ?? NSNull(),
         "signal": instance.signal.map { Int($0) } ?? NSNull(), "note": instance.note ?? NSNull()]
    }

    func dagsJSON() throws -> [String: Any] {
        let paused = Set(try store.dags().filter(\.isPaused).map(\.dagId))
        return [
            "dags": dags().sorted { $0.dagId < $1.dagId }.map { dag -> [String: Any] in
                ["dag_id": dag.dagId, "description": dag.description ?? NSNull(), "schedule": dag.timetable.cron?.description ?? NSNull(),
                 "is_paused": paused.contains(dag.dagId), "tasks": dag.tasks.map(\.id)]
            },
            "import_errors": try store.importErrors().sorted { $0.key < $1.key }.map { ["file": $0.key, "error": $0.value] },
        ]
    }

    func metrics() throws -> String {
        var lines = ["# HELP orchestrator_runs DAG runs by state.", "# TYPE orchestrator_runs gauge"]
        let runs = try store.runCountsByState()
        for state in RunState.allCases {
            lines.append("orchestrator_runs{state=\"\(state.rawValue)\"} \(runs[state] ?? 0)")
        }
        lines += ["# HELP orchestrator_task_instances Task instances of unfinished runs by state.", "# TYPE orchestrator_task_instances gauge"]
        let active = try store.taskInstances(states: Set(TaskState.allCases.filter { !$0.isFinished }))
        for state in TaskState.allCases where !state.isFinished {
            lines.append("orchestrator_task_instances{state=\"\(state.rawValue)\"} \(active.filter { $0.state == state }.count)")
        }
        let queued = active.filter { $0.state == .scheduled || $0.state == .queued }.count
        lines += ["# HELP orchestrator_queue_depth Task instances waiting for a worker.", "# TYPE orchestrator_queue_depth gauge",
                  "orchestrator_queue_depth \(queued)"]
        let notifications = try store.notificationCounts()
        lines += ["# HELP orchestrator_notifications Notifications by outcome.", "# TYPE orchestrator_notifications gauge",
                  "orchestrator_notifications{state=\"pending\"} \(notifications.pending)",
                  "orchestrator_notifications{state=\"delivered\"} \(notifications.delivered)",
                  "orchestrator_notifications{state=\"failed\"} \(notifications.failed)",
                  "# HELP orchestrator_import_errors DAG files that fail to load.", "# TYPE orchestrator_import_errors gauge",
                  "orchestrator_import_errors \(try store.importErrors().count)"]
        return lines.joined(separator: "\n") + "\n"
    }

    // MARK: Pages

    func homePage() throws -> String {
        let paused = Set(try store.dags().filter(\.isPaused).map(\.dagId))
        var body = "<h1>DAGs</h1>"
        for (file, error) in try store.importErrors().sorted(by: { $0.key < $1.key }) {
            body += "<div class=\"banner\"><b>\(HTML.escape(file))</b> failed to load:\n\(HTML.escape(error))</div>"
        }
        var active = false
        body += "<table><tr><th>DAG</th><th>schedule</th><th>paused</th><th>last runs</th><th>runs by state</th></tr>"
        for dag in dags().sorted(by: { $0.dagId < $1.dagId }) {
            let recent = try store.runs(RunFilter(dagId: dag.dagId, newestFirst: true, limit: 20))
            if recent.contains(where: { !$0.state.isFinished }) { active = true }
            let squares = recent.reversed().map { "<span class=\"sq \($0.state.rawValue)\" title=\"\(HTML.escape($0.runId)): \($0.state.rawValue)\"></span>" }.joined()
            let counts = RunState.allCases.compactMap { state -> String? in
                let count = recent.filter { $0.state == state }.count
                return count > 0 ? "\(state.rawValue) \(count)" : nil
            }.joined(separator: ", ")
            body += "<tr><td><a href=\"/dags/\(HTML.pathComponent(dag.dagId))\">\(HTML.escape(dag.dagId))</a>"
                + (dag.description.map { "<br><small>\(HTML.escape($0))</small>" } ?? "") + "</td>"
                + "<td>\(HTML.escape(dag.timetable.cron?.description ?? "None"))</td><td>\(paused.contains(dag.dagId) ? "yes" : "no")</td>"
                + "<td>\(squares)</td><td>\(HTML.escape(counts))</td></tr>"
        }
        body += "</table>"
        return HTML.page(title: "DAGs", refresh: active, body: body)
    }

    /// Airflow's grid: runs as columns (newest first, 25 a page), tasks as rows, each cell coloured by state.
    func gridPage(_ dag: DAG, offset: Int) throws -> String {
        let pageSize = 25
        let runs = Array(try store.runs(RunFilter(dagId: dag.dagId, newestFirst: true, limit: offset + pageSize)).dropFirst(offset))
        var states: [String: [String: TaskInstance]] = [:]
        for run in runs {
            states[run.runId] = Dictionary(try store.taskInstances(dagId: dag.dagId, runId: run.runId).map { ($0.key.taskId, $0) },
                                           uniquingKeysWith: { a, _ in a })
        }
        var body = "<h1>\(HTML.escape(dag.dagId))</h1>"
        if let description = dag.description { body += "<p>\(HTML.escape(description))</p>" }
        body += "<table><tr><th>task</th>"
        for run in runs {
            body += "<th title=\"\(HTML.escape(run.runId))\"><span class=\"sq \(run.state.rawValue)\"></span></th>"
        }
        body += "</tr>"
        for task in dag.tasks {
            body += "<tr><td>\(HTML.escape(task.id))</td>"
            for run in runs {
                let instance = states[run.runId]?[task.id]
                let state = instance?.state.rawValue ?? "none"
                let title = "\(run.runId) · \(task.id): \(state)" + (instance?.note.map { " — \($0)" } ?? "")
                body += "<td class=\"cell\"><span class=\"\(state)\" data-state=\"\(state)\" title=\"\(HTML.escape(title))\"></span></td>"
            }
            body += "</tr>"
        }
        body += "</table>"
        if runs.count == pageSize { body += "<p><a href=\"?offset=\(offset + pageSize)\">older runs →</a></p>" }
        if offset > 0 { body += "<p><a href=\"?offset=\(max(0, offset - pageSize))\">← newer runs</a></p>" }
        return HTML.page(title: dag.dagId, refresh: runs.contains { !$0.state.isFinished }, body: body)
    }
}

public struct StatusServerError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}
