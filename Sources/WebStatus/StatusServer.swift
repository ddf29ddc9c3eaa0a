import Foundation
import HTTPTypes
import Hummingbird
import Logging
import MetadataStore
import SecretMasking
import Workflow

/// How the daemon sets up its HTTP side.
public struct StatusServerSetup: Sendable {
    public var host: String
    public var port: Int
    /// Attempt logs live under this folder; nothing outside it is ever served.
    public var logsFolder: String
    public var logPath: @Sendable (TaskKey, Int) -> String
    public var resultPath: @Sendable (TaskKey, Int) -> String
    /// The bearer token for actions; nil or empty: actions are off.
    public var token: String?
    public var actions: (any StatusActions)?
    /// Durations of the scheduler's passes, for /metrics.
    public var loopLatency: (@Sendable () -> DurationHistogram)?
    /// Timeouts and the connection cap.
    public var limits = WebLimits.defaults
    /// Exact secrets masked in served logs besides the token: the configured connections' passwords. The daemon
    /// replaces them on a reload.
    public var knownSecrets = KnownSecrets()
    /// Where the server says it is listening, or why it cannot bind yet (warning: true).
    public var log: (@Sendable (_ warning: Bool, _ message: String, _ fields: [(String, String)]) -> Void)?
    /// Lines /healthz adds about this node: its name, and warnings (a skewed clock).
    public var nodeHealth: (@Sendable () -> String)?
    /// This node's name: an attempt of another node whose log is not here is fetched from that node.
    public var nodeName: String?
    /// The secret the nodes share to read each other's logs (`node_token`); nil or empty: this node neither serves
    /// its logs to others nor fetches theirs.
    public var nodeToken: String?

    public init(host: String, port: Int, logsFolder: String, logPath: @escaping @Sendable (TaskKey, Int) -> String,
                resultPath: @escaping @Sendable (TaskKey, Int) -> String, token: String? = nil, actions: (any StatusActions)? = nil,
                loopLatency: (@Sendable () -> DurationHistogram)? = nil) {
        self.host = host
        self.port = port
        self.logsFolder = logsFolder
        self.logPath = logPath
        self.resultPath = resultPath
        self.token = token
        self.actions = actions
        self.loopLatency = loopLatency
    }
}

/// The daemon's HTTP side: status pages, the JSON API under /api/v1 (docs/openapi.yaml), /healthz and /metrics
/// (Prometheus text). Pages and API read the store; actions (trigger, clear, pause) go through `StatusActions`
/// and need the configured token. Binds 127.0.0.1 unless configured otherwise.
public final class StatusServer: @unchecked Sendable {
    let store: any MetadataStore
    /// The DAGs as the scheduler loaded them (schedules, tasks), read on each request.
    let dags: @Sendable () -> [DAG]
    let setup: StatusServerSetup
    let files: TaskFiles
    let auth: WebAuth
    let nodeAuth: NodeTokenCheck
    /// Fetches logs from other nodes; nil without a node token.
    let nodeLogs: NodeLogClient?
    let started = DispatchSemaphore(value: 0)
    let lock = NSLock()
    var binding = BindStatus()
    var hasFirstOutcome = false

    public init(store: any MetadataStore, setup: StatusServerSetup, dags: @escaping @Sendable () -> [DAG]) {
        self.store = store
        self.setup = setup
        self.dags = dags
        // Both tokens are masked wherever they appear in a served log, this node's or another's.
        let tokens = [setup.token, setup.nodeToken].compactMap { $0 }.filter { !$0.isEmpty }
        files = TaskFiles(logsFolder: setup.logsFolder, logPath: setup.logPath, resultPath: setup.resultPath,
                          secrets: { [known = setup.knownSecrets] in tokens + known.values })
        auth = WebAuth(token: setup.actions == nil ? nil : setup.token)
        nodeAuth = NodeTokenCheck(token: setup.nodeToken)
        nodeLogs = setup.nodeToken.flatMap { $0.isEmpty ? nil : NodeLogClient(token: $0) }
    }

    func apiRoutes(_ router: Router<BasicRequestContext>) {
        router.get("/healthz") { [self] _, _ in
            let binding = bindStatus
            return "ok\n" + (setup.nodeHealth?() ?? "") + (binding.failures > 0 ? "web: bound after \(binding.failures) failed binds (last: \(binding.lastError ?? ""))\n" : "")
        }
        router.get("/metrics") { [self] _, _ in
            Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"], body: .init(byteBuffer: .init(string: try metrics())))
        }
        router.get("/api/v1/nodes") { [self] _, _ in try json(try store.nodes().map(Self.nodeJSON)) }
        router.get("/api/v1/dags") { [self] _, _ in try json(try dagsJSON()) }
        router.get("/api/v1/dags/:dag") { [self] _, context in try json(try dagJSON(try dagParameter(context))) }
        router.get("/api/v1/dags/:dag/runs") { [self] request, context in
            let dag = try dagParameter(context)
            let limit = try intParameter(request, "limit", default: 25, range: 1...1000)
            let offset = try intParameter(request, "offset", default: 0, range: 0...10_000_000)
            return try json(try store.runs(RunFilter(dagId: dag.dagId, newestFirst: true, limit: limit, offset: offset)).map(Self.runJSON))
        }
        router.get("/api/v1/dags/:dag/runs/:run") { [self] _, context in
            let (_, run) = try runParameter(context)
            return try json(Self.runJSON(run))
        }
        router.get("/api/v1/dags/:dag/runs/:run/tasks") { [self] _, context in
            let (dag, run) = try runParameter(context)
            return try json(try store.taskInstances(dagId: dag.dagId, runId: run.runId).map(Self.taskJSON))
        }
        router.get("/api/v1/dags/:dag/runs/:run/tasks/:task") { [self] _, context in
            let (_, _, instance) = try taskParameter(context)
            var object = Self.taskJSON(instance)
            object["attempts"] = try store.attempts(instance.key).map { attempt -> [String: Any] in
                var entry = Self.attemptJSON(attempt)
                entry["result"] = try files.result(instance.key, tryNumber: attempt.tryNumber) ?? NSNull()
                return entry
            }
            return try json(object)
        }
        router.get("/api/v1/dags/:dag/runs/:run/tasks/:task/logs/:try") { [self] request, context in
            let (_, _, instance) = try taskParameter(context)
            let attempt = try tryParameter(context, instance)
            let length = try intParameter(request, "length", default: 65_536, range: 1...4_194_304)
            let offset = try request.uri.queryParameters.get("offset").map { _ in try intParameter(request, "offset", default: 0, range: 0...Int(Int32.max)) }
            // Here or on the node that ran the attempt: the same answer either way.
            switch try await attemptLog(instance.key, tryNumber: attempt, offset: offset, length: length) {
            case .piece(let chunk):
                return try json(["try_number": attempt, "offset": chunk.offset, "next_offset": chunk.end,
                                 "size": chunk.size, "content": chunk.text])
            case .none:
                throw HTTPError(.notFound, message: "no log for attempt \(attempt) of \(instance.key)")
            case .unavailable(let failure):
                throw failure.httpError
            }
        }
    }

    // MARK: Parameters

    func decoded(_ context: BasicRequestContext, _ name: String) throws -> String {
        guard let raw = context.parameters.get(name), let value = raw.removingPercentEncoding, !value.isEmpty else {
            throw HTTPError(.badRequest, message: "missing or malformed path parameter '\(name)'")
        }
        try TaskFiles.checkName(value, name)
        return value
    }

    func dagParameter(_ context: BasicRequestContext) throws -> DAG {
        let dagId = try decoded(context, "dag")
        guard let dag = dags().first(where: { $0.dagId == dagId }) else { throw HTTPError(.notFound, message: "unknown DAG '\(dagId)'") }
        return dag
    }

    func runParameter(_ context: BasicRequestContext) throws -> (DAG, DagRun) {
        let dag = try dagParameter(context)
        let runId = try decoded(context, "run")
        guard let run = try store.run(dagId: dag.dagId, runId: runId) else {
            throw HTTPError(.notFound, message: "DAG '\(dag.dagId)' has no run '\(runId)'")
        }
        return (dag, run)
    }

    func taskParameter(_ context: BasicRequestContext) throws -> (DAG, DagRun, TaskInstance) {
        let (dag, run) = try runParameter(context)
        let taskId = try decoded(context, "task")
        guard let instance = try store.taskInstance(TaskKey(dagId: dag.dagId, runId: run.runId, taskId: taskId)) else {
            throw HTTPError(.notFound, message: "run '\(run.runId)' of DAG '\(dag.dagId)' has no task '\(taskId)'")
        }
        return (dag, run, instance)
    }

    func tryParameter(_ context: BasicRequestContext, _ instance: TaskInstance) throws -> Int {
        let text = try decoded(context, "try")
        guard let attempt = Int(text), attempt >= 1 else { throw HTTPError(.badRequest, message: "attempt '\(text)' must be a whole number from 1") }
        let highest = try highestAttempt(instance)
        guard attempt <= highest else {
            throw HTTPError(.notFound, message: "\(instance.key) has made \(highest) attempt\(highest == 1 ? "" : "s")")
        }
        return attempt
    }

    /// The latest attempt: a sensor waiting between pokes has handed its try back, but its attempt is open.
    func highestAttempt(_ instance: TaskInstance) throws -> Int {
        max(instance.tryNumber, try store.attempts(instance.key).map(\.tryNumber).max() ?? 0)
    }

    func intParameter(_ request: Request, _ name: String, default fallback: Int, range: ClosedRange<Int>) throws -> Int {
        guard let text = request.uri.queryParameters.get(name) else { return fallback }
        guard let value = Int(text), range.contains(value) else {
            throw HTTPError(.badRequest, message: "query parameter '\(name)' must be a whole number in \(range.lowerBound)...\(range.upperBound)")
        }
        return value
    }

    // MARK: Responses

    func json(_ object: Any, status: HTTPResponse.Status = .ok) throws -> Response {
        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: .init(bytes: data)))
    }

    func html(_ text: String, status: HTTPResponse.Status = .ok) -> Response { Self.htmlResponse(text, status: status) }

    static func htmlResponse(_ text: String, status: HTTPResponse.Status = .ok) -> Response {
        var headers: HTTPFields = [.contentType: "text/html; charset=utf-8"]
        // Pages need nothing from elsewhere: no scripts at all, no remote content, no framing by other sites.
        if let name = HTTPField.Name("Content-Security-Policy") {
            headers[name] = "default-src 'self'; style-src 'unsafe-inline'; script-src 'none'; frame-ancestors 'none'; form-action 'self'"
        }
        if let name = HTTPField.Name("X-Content-Type-Options") { headers[name] = "nosniff" }
        if let name = HTTPField.Name("Referrer-Policy") { headers[name] = "same-origin" }
        return Response(status: status, headers: headers, body: .init(byteBuffer: .init(string: text)))
    }

    static func iso(_ date: Date?) -> Any { date.map(DateParsing.isoUTC) ?? NSNull() }

    static func runJSON(_ run: DagRun) -> [String: Any] {
        ["dag_id": run.dagId, "run_id": run.runId, "run_type": run.runType.rawValue, "state": run.state.rawValue,
         "logical_date": DateParsing.isoUTC(run.logicalDate), "data_interval_start": DateParsing.isoUTC(run.dataIntervalStart),
         "data_interval_end": DateParsing.isoUTC(run.dataIntervalEnd), "started_at": iso(run.startedAt), "ended_at": iso(run.endedAt),
         "backfill_id": run.backfillId.map { Int($0) as Any } ?? NSNull()]
    }

    static func nodeJSON(_ node: NodeRecord) -> [String: Any] {
        ["name": node.name, "started_at": DateParsing.isoUTC(node.startedAt), "last_heartbeat": DateParsing.isoUTC(node.lastHeartbeat),
         "version": node.version, "pid": Int(node.pid), "address": node.address ?? NSNull()]
    }

    static func taskJSON(_ instance: TaskInstance) -> [String: Any] {
        ["task_id": instance.key.taskId, "state": instance.state.rawValue, "try_number": instance.tryNumber,
         "max_tries": instance.maxTries, "started_at": iso(instance.startedAt), "ended_at": iso(instance.endedAt),
         "duration": instance.duration ?? NSNull(), "exit_code": instance.exitCode.map { Int($0) } ?? NSNull(),
         "signal": instance.signal.map { Int($0) } ?? NSNull(), "note": instance.note ?? NSNull(), "pool": instance.pool,
         "next_retry_at": iso(instance.nextRetryAt)]
    }

    static func attemptJSON(_ attempt: TaskAttempt) -> [String: Any] {
        ["try_number": attempt.tryNumber, "state": attempt.state.rawValue, "hostname": attempt.hostname ?? NSNull(),
         "started_at": iso(attempt.startedAt), "ended_at": iso(attempt.endedAt),
         "duration": zip2(attempt.startedAt, attempt.endedAt).map { $1.timeIntervalSince($0) as Any } ?? NSNull(),
         "exit_code": attempt.exitCode.map { Int($0) } ?? NSNull(), "signal": attempt.signal.map { Int($0) } ?? NSNull(),
         "note": attempt.note ?? NSNull()]
    }

    static func zip2<A, B>(_ a: A?, _ b: B?) -> (A, B)? {
        guard let a, let b else { return nil }
        return (a, b)
    }

    func dagsJSON() throws -> [String: Any] {
        let paused = Set(try store.dags().filter(\.isPaused).map(\.dagId))
        return [
            "dags": try dags().sorted { $0.dagId < $1.dagId }.map { dag -> [String: Any] in
                ["dag_id": dag.dagId, "description": dag.description ?? NSNull(), "schedule": dag.timetable.cron?.description ?? NSNull(),
                 "is_paused": paused.contains(dag.dagId), "tasks": dag.tasks.map(\.id), "next_run": try nextRunJSON(dag)]
            },
            "import_errors": try store.importErrors().sorted { $0.key < $1.key }.map { ["file": $0.key, "error": $0.value] },
        ]
    }

    func nextRunJSON(_ dag: DAG) throws -> Any {
        guard dag.timetable.cron != nil,
              let next = dag.nextScheduledRun(latestExisting: try store.latestLogicalDate(dagId: dag.dagId, runType: .scheduled)) else { return NSNull() }
        return ["logical_date": DateParsing.isoUTC(next.logicalDate), "due": DateParsing.isoUTC(next.due)]
    }

    func dagJSON(_ dag: DAG) throws -> [String: Any] {
        let paused = try store.dags().first { $0.dagId == dag.dagId }?.isPaused ?? false
        return ["dag_id": dag.dagId, "description": dag.description ?? NSNull(), "schedule": dag.timetable.cron?.description ?? NSNull(),
                "timezone": HTML.zoneName(dag.timetable.timeZone), "is_paused": paused, "next_run": try nextRunJSON(dag),
                "tasks": dag.tasks.map { ["task_id": $0.id, "depends_on": $0.dependsOn, "trigger_rule": $0.triggerRule.rawValue] },
                "sla_misses": try store.slaMisses(dagId: dag.dagId).suffix(100).map { miss -> [String: Any] in
                    ["run_id": miss.runId, "task_id": miss.taskId ?? NSNull(), "deadline": DateParsing.isoUTC(miss.deadline),
                     "detected_at": DateParsing.isoUTC(miss.detectedAt)]
                },
                "backfills": try backfillProgress(dag).map { item -> [String: Any] in
                    ["id": Int(item.backfill.id), "start": DateParsing.isoUTC(item.backfill.start), "end": DateParsing.isoUTC(item.backfill.end),
                     "runs": Dictionary(uniqueKeysWithValues: item.counts.map { ($0.key.rawValue, $0.value) })]
                }]
    }

    func backfillProgress(_ dag: DAG) throws -> [(backfill: Backfill, counts: [RunState: Int])] {
        try store.backfills(dagId: dag.dagId).prefix(5).map { ($0, try store.runCountsByState(backfillId: $0.id)) }
    }
}

/// Turns refusals of unsafe ids into 400 answers and refused actions into theirs, whichever route raised them;
/// outside /api/ and the nodes' internal route (pages and their forms) the error is a page a person can read rather than JSON.
struct RefusalMiddleware: RouterMiddleware {
    func handle(_ request: Request, context: BasicRequestContext, next: (Request, BasicRequestContext) async throws -> Response) async throws -> Response {
        do {
            do { return try await next(request, context) } catch let refusal as RequestRefusal {
                throw HTTPError(.badRequest, message: refusal.description)
            } catch let error as ActionError {
                throw error.httpError
            }
        } catch let error as HTTPError where !request.uri.path.hasPrefix("/api/") && !request.uri.path.hasPrefix(NodeLogClient.route + "/")
                    && error.status != .ok {
            let message = error.body ?? error.status.reasonPhrase
            var response = StatusServer.htmlResponse(
                HTML.page(title: "\(error.status.code) \(error.status.reasonPhrase)", refresh: false,
                          body: "<h1>\(error.status.code) \(HTML.escape(error.status.reasonPhrase))</h1><p class=\"error\">\(HTML.escape(message))</p>"),
                status: error.status)
            for field in error.headers { response.headers.append(field) }
            return response
        }
    }
}
