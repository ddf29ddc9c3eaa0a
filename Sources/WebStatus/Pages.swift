import Foundation
import Hummingbird
import MetadataStore
import Workflow

/// The HTML pages. Every value shown goes through `HTML.escape`; links through `HTML.pathComponent`.
extension StatusServer {
    func pageRoutes(_ router: Router<BasicRequestContext>) {
        router.get("/") { [self] request, _ in html(try homePage(viewer(request))) }
        router.get("/dags/:dag") { [self] request, context in
            let dag = try dagParameter(context)
            let offset = try intParameter(request, "offset", default: 0, range: 0...10_000_000)
            return html(try dagPage(dag, offset: offset, viewer: viewer(request)))
        }
        router.get("/dags/:dag/runs/:run") { [self] request, context in
            let (dag, run) = try runParameter(context)
            return html(try runPage(dag, run, viewer: viewer(request)))
        }
        router.get("/dags/:dag/runs/:run/tasks/:task") { [self] request, context in
            let (dag, run, instance) = try taskParameter(context)
            let highest = try highestAttempt(instance)
            let attempt = try intParameter(request, "try", default: highest, range: 0...Int(Int32.max))
            guard attempt <= highest else {
                throw HTTPError(.notFound, message: "\(instance.key) has made \(highest) attempt\(highest == 1 ? "" : "s")")
            }
            let before = try request.uri.queryParameters.get("before").map { _ in try intParameter(request, "before", default: 0, range: 0...Int(Int32.max)) }
            return html(try await taskPage(dag, run, instance, attempt: attempt, before: before, viewer: viewer(request)))
        }
        router.get("/login") { [self] request, _ in html(loginPage(next: Self.localPath(request.uri.queryParameters.get("next")), failed: false)) }
    }

    /// Who looks at the page: the CSRF token of a logged-in session, for the action forms.
    struct Viewer {
        var csrf: String?
        var actionsEnabled: Bool
    }

    func viewer(_ request: Request) -> Viewer {
        Viewer(csrf: auth.session(request)?.csrf, actionsEnabled: auth.actionsEnabled)
    }

    /// Only same-site paths may be redirected to after a login: `/` then plain path and query characters, so
    /// nothing a browser would drop or turn into a host (`//`, `/\\`, tabs, spaces, control characters).
    static func localPath(_ text: String?) -> String {
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~/?=&%:+@,;".unicodeScalars)
        guard let text, text.hasPrefix("/"), !text.hasPrefix("//"), text.unicodeScalars.allSatisfy(allowed.contains) else { return "/" }
        return text
    }

    // MARK: Home

    func homePage(_ viewer: Viewer) throws -> String {
        let paused = Set(try store.dags().filter(\.isPaused).map(\.dagId))
        var body = "<h1>DAGs</h1>"
        for (file, error) in try store.importErrors().sorted(by: { $0.key < $1.key }) {
            body += "<div class=\"banner\"><b>\(HTML.escape(file))</b> failed to load:\n\(HTML.escape(error))</div>"
        }
        var active = false
        body += "<table><tr><th>DAG</th><th>schedule</th><th>paused</th><th>next run</th><th>last runs</th><th>runs by state</th></tr>"
        for dag in dags().sorted(by: { $0.dagId < $1.dagId }) {
            let recent = try store.runs(RunFilter(dagId: dag.dagId, newestFirst: true, limit: 20))
            if recent.contains(where: { !$0.state.isFinished }) { active = true }
            let dagPath = HTML.dagPath(dag.dagId)
            let squares = recent.reversed().map {
                "<a href=\"\(HTML.runPath(dag.dagId, $0.runId))\" class=\"sq \($0.state.rawValue)\" data-state=\"\($0.state.rawValue)\" title=\"\(HTML.escape($0.runId)): \($0.state.rawValue)\"></a>"
            }.joined()
            let counts = RunState.allCases.compactMap { state -> String? in
                let count = recent.filter { $0.state == state }.count
                return count > 0 ? "\(state.rawValue) \(count)" : nil
            }.joined(separator: ", ")
            var next = "—"
            if dag.timetable.cron != nil, !paused.contains(dag.dagId),
               let run = dag.nextScheduledRun(latestExisting: try store.latestLogicalDate(dagId: dag.dagId, runType: .scheduled)) {
                next = "<span title=\"logical date \(DateParsing.isoUTC(run.logicalDate))\">\(HTML.time(run.due))</span>"
            }
            body += "<tr><td><a href=\"\(dagPath)\">\(HTML.escape(dag.dagId))</a>"
                + (dag.description.map { "<br><small>\(HTML.escape($0))</small>" } ?? "") + "</td>"
                + "<td>\(HTML.escape(dag.timetable.cron?.description ?? "None"))</td><td>\(paused.contains(dag.dagId) ? "yes" : "no")</td>"
                + "<td>\(next)</td><td>\(squares)</td><td>\(HTML.escape(counts))</td></tr>"
        }
        body += "</table>"
        return HTML.page(title: "DAGs", refresh: active, body: body, session: sessionBar(viewer, next: "/"))
    }

    func sessionBar(_ viewer: Viewer, next: String) -> String {
        guard viewer.actionsEnabled else { return "" }
        if let csrf = viewer.csrf {
            return HTML.form("/logout", csrf: csrf, fields: [:], button: "log out", inline: true)
        }
        return "<a href=\"/login?next=\(HTML.queryValue(next))\">log in for actions</a>"
    }

    // MARK: DAG: grid, graph, backfills

    /// Airflow's grid: runs as columns (newest first, 25 a page), tasks as rows, each cell coloured by state.
    func dagPage(_ dag: DAG, offset: Int, viewer: Viewer) throws -> String {
        let pageSize = 25
        let runs = try store.runs(RunFilter(dagId: dag.dagId, newestFirst: true, limit: pageSize, offset: offset))
        var states: [String: [String: TaskInstance]] = [:]
        for instance in try store.taskInstances(dagId: dag.dagId, runIds: runs.map(\.runId)) {
            states[instance.key.runId, default: [:]][instance.key.taskId] = instance
        }
        let dagPath = HTML.dagPath(dag.dagId)
        let paused = try store.dags().first { $0.dagId == dag.dagId }?.isPaused ?? false
        var body = "<h1>\(HTML.escape(dag.dagId))\(paused ? " <small class=\"tag\">paused</small>" : "")</h1>"
        if let description = dag.description { body += "<p>\(HTML.escape(description))</p>" }
        body += "<p>schedule \(HTML.escape(dag.timetable.cron?.description ?? "None")) · \(HTML.escape(HTML.zoneName(dag.timetable.timeZone)))"
            + " · \(dag.tasks.count) tasks</p>"
        if let csrf = viewer.csrf {
            body += "<div class=\"actions\">"
                + HTML.form("\(dagPath)/trigger", csrf: csrf, fields: [:], button: "trigger run", input: ("logical_date", "logical date (optional)"))
                + HTML.form("\(dagPath)/\(paused ? "unpause" : "pause")", csrf: csrf, fields: [:], button: paused ? "unpause" : "pause")
                + "</div>"
        }
        for item in try backfillProgress(dag) {
            let total = item.counts.values.reduce(0, +)
            let done = (item.counts[.success] ?? 0) + (item.counts[.failed] ?? 0)
            let percent = total == 0 ? 0 : done * 100 / total
            let detail = RunState.allCases.compactMap { state in item.counts[state].map { "\(state.rawValue) \($0)" } }.joined(separator: ", ")
            body += "<div class=\"backfill\">backfill #\(item.backfill.id) \(HTML.day(item.backfill.start)) → \(HTML.day(item.backfill.end)): "
                + "\(done) of \(total) runs done (\(detail)) <span class=\"bar\"><span style=\"width:\(percent)%\"></span></span></div>"
        }
        let misses = try store.slaMisses(dagId: dag.dagId).suffix(10).reversed()
        if !misses.isEmpty {
            body += "<h2>SLA misses</h2><table><tr><th>run</th><th>task</th><th>deadline</th><th>detected</th></tr>"
            for miss in misses {
                body += "<tr class=\"sla-miss\"><td><a href=\"\(HTML.runPath(dag.dagId, miss.runId))\">\(HTML.escape(miss.runId))</a></td>"
                    + "<td>\(HTML.escape(miss.taskId ?? "(whole run)"))</td><td>\(HTML.time(miss.deadline))</td><td>\(HTML.time(miss.detectedAt))</td></tr>"
            }
            body += "</table>"
        }
        let latest = runs.first.flatMap { states[$0.runId] }
        body += "<h2>Graph</h2>" + GraphSVG.render(dag, states: latest?.mapValues { $0.state.rawValue } ?? [:])
        body += try lineage(dag, runs: runs, states: states)
        body += "<h2>Runs</h2><table class=\"grid\"><tr><th>task</th>"
        for run in runs {
            // The logical day under each column (month-day), the full run id on hover.
            body += "<th class=\"run\"><a href=\"\(HTML.runPath(dag.dagId, run.runId))\" class=\"sq \(run.state.rawValue)\" data-state=\"\(run.state.rawValue)\" title=\"\(HTML.escape(run.runId)): \(run.state.rawValue)\"></a>"
                + "<small>\(HTML.day(run.logicalDate).dropFirst(5))</small></th>"
        }
        body += "</tr>"
        for task in dag.tasks {
            body += "<tr><td>\(HTML.escape(task.id))</td>"
            for run in runs {
                let instance = states[run.runId]?[task.id]
                let state = instance?.state.rawValue ?? "none"
                let title = "\(run.runId) · \(task.id): \(state)" + (instance?.note.map { " — \($0)" } ?? "")
                let link = HTML.taskPath(dag.dagId, run.runId, task.id)
                body += "<td class=\"cell\"><a href=\"\(link)\" class=\"\(state)\" data-state=\"\(state)\" title=\"\(HTML.escape(title))\"></a></td>"
            }
            body += "</tr>"
        }
        body += "</table>"
        if runs.count == pageSize { body += "<p><a href=\"?offset=\(offset + pageSize)\">older runs →</a></p>" }
        if offset > 0 { body += "<p><a href=\"?offset=\(max(0, offset - pageSize))\">← newer runs</a></p>" }
        return HTML.page(title: dag.dagId, refresh: runs.contains { !$0.state.isFinished }, body: body, session: sessionBar(viewer, next: dagPath))
    }

    /// The model graph of each models.run task, from the newest run on the page whose attempt reported its models.
    func lineage(_ dag: DAG, runs: [DagRun], states: [String: [String: TaskInstance]]) throws -> String {
        var html = ""
        for task in dag.tasks {
            guard case .transform(let name, _) = task.action, name == "models.run" else { continue }
            for run in runs {
                guard let instance = states[run.runId]?[task.id], instance.tryNumber >= 1,
                      let result = try files.result(instance.key, tryNumber: instance.tryNumber),
                      let models = result["models"] as? [[String: Any]], !models.isEmpty else { continue }
                html += LineageSection.render(taskId: task.id, runId: run.runId, taskLink: HTML.taskPath(dag.dagId, run.runId, task.id), models: models)
                break
            }
        }
        return html
    }

    // MARK: Run

    func runPage(_ dag: DAG, _ run: DagRun, viewer: Viewer) throws -> String {
        let dagPath = HTML.dagPath(dag.dagId)
        let runPath = HTML.runPath(dag.dagId, run.runId)
        let order = Dictionary(dag.tasks.enumerated().map { ($1.id, $0) }, uniquingKeysWith: { a, _ in a })
        let instances = try store.taskInstances(dagId: dag.dagId, runId: run.runId)
            .sorted { (order[$0.key.taskId] ?? .max, $0.key.taskId) < (order[$1.key.taskId] ?? .max, $1.key.taskId) }
        var body = "<p><a href=\"\(dagPath)\">\(HTML.escape(dag.dagId))</a></p>"
        body += "<h1>\(HTML.escape(run.runId)) <span class=\"state \(run.state.rawValue)\" data-state=\"\(run.state.rawValue)\">\(run.state.rawValue)</span></h1>"
        body += "<table class=\"facts\">"
            + HTML.row("type", run.runType.rawValue) + HTML.row("logical date", DateParsing.isoUTC(run.logicalDate))
            + HTML.row("data interval", "\(DateParsing.isoUTC(run.dataIntervalStart)) → \(DateParsing.isoUTC(run.dataIntervalEnd))")
            + HTML.row("started", HTML.timeText(run.startedAt)) + HTML.row("ended", HTML.timeText(run.endedAt))
            + HTML.row("duration", HTML.duration(StatusServer.zip2(run.startedAt, run.endedAt).map { $1.timeIntervalSince($0) }))
            + (run.paramsJSON == "{}" ? "" : HTML.row("params", run.paramsJSON)) + "</table>"
        if let csrf = viewer.csrf {
            body += "<div class=\"actions\">" + HTML.form("\(runPath)/clear", csrf: csrf, fields: [:], button: "clear all tasks")
                + HTML.form("\(runPath)/clear", csrf: csrf, fields: ["only_failed": "1"], button: "clear failed tasks") + "</div>"
        }
        body += "<table><tr><th>task</th><th>state</th><th>try</th><th>started</th><th>ended</th><th>duration</th><th>exit</th><th>note</th></tr>"
        for instance in instances {
            body += "<tr><td><a href=\"\(HTML.taskPath(dag.dagId, run.runId, instance.key.taskId))\">\(HTML.escape(instance.key.taskId))</a></td>"
                + "<td><span class=\"state \(instance.state.rawValue)\" data-state=\"\(instance.state.rawValue)\">\(instance.state.rawValue)</span></td>"
                + "<td>\(instance.tryNumber)/\(instance.maxTries)</td><td>\(HTML.time(instance.startedAt))</td><td>\(HTML.time(instance.endedAt))</td>"
                + "<td>\(HTML.duration(instance.duration))</td><td>\(HTML.exit(instance.exitCode, instance.signal))</td>"
                + "<td>\(HTML.escape(instance.note ?? ""))</td></tr>"
        }
        body += "</table>"
        return HTML.page(title: run.runId, refresh: !run.state.isFinished, body: body, session: sessionBar(viewer, next: runPath))
    }

    // MARK: Task

    static let logChunk = 65_536

    func taskPage(_ dag: DAG, _ run: DagRun, _ instance: TaskInstance, attempt: Int, before: Int?, viewer: Viewer) async throws -> String {
        let dagPath = HTML.dagPath(dag.dagId)
        let runPath = HTML.runPath(dag.dagId, run.runId)
        let taskPath = HTML.taskPath(dag.dagId, run.runId, instance.key.taskId)
        var body = "<p><a href=\"\(dagPath)\">\(HTML.escape(dag.dagId))</a> / <a href=\"\(runPath)\">\(HTML.escape(run.runId))</a></p>"
        body += "<h1>\(HTML.escape(instance.key.taskId)) <span class=\"state \(instance.state.rawValue)\" data-state=\"\(instance.state.rawValue)\">\(instance.state.rawValue)</span></h1>"
        if let task = dag.task(instance.key.taskId) { body += "<p><code>\(HTML.escape(task.action.summary))</code></p>" }
        body += "<table class=\"facts\">" + HTML.row("try", "\(instance.tryNumber) of \(instance.maxTries)") + HTML.row("pool", instance.pool)
            + (instance.nextRetryAt.map { HTML.row("next retry", DateParsing.isoUTC($0)) } ?? "")
            + (instance.note.map { HTML.row("note", $0) } ?? "") + "</table>"
        if let csrf = viewer.csrf {
            body += "<div class=\"actions\">" + HTML.form("\(runPath)/clear", csrf: csrf, fields: ["task": instance.key.taskId], button: "clear",
                                                          checkbox: ("downstream", "with downstream")) + "</div>"
        }
        let attempts = try store.attempts(instance.key)
        body += "<h2>Attempts</h2><table><tr><th>try</th><th>state</th><th>node</th><th>started</th><th>ended</th><th>duration</th><th>exit</th><th>note</th></tr>"
        for item in attempts {
            let duration = StatusServer.zip2(item.startedAt, item.endedAt).map { $1.timeIntervalSince($0) }
            body += "<tr\(item.tryNumber == attempt ? " class=\"selected\"" : "")><td><a href=\"\(taskPath)?try=\(item.tryNumber)\">\(item.tryNumber)</a></td>"
                + "<td><span class=\"state \(item.state.rawValue)\" data-state=\"\(item.state.rawValue)\">\(item.state.rawValue)</span></td>"
                + "<td>\(HTML.escape(item.hostname ?? ""))</td><td>\(HTML.time(item.startedAt))</td><td>\(HTML.time(item.endedAt))</td>"
                + "<td>\(HTML.duration(duration))</td><td>\(HTML.exit(item.exitCode, item.signal))</td><td>\(HTML.escape(item.note ?? ""))</td></tr>"
        }
        body += "</table>"
        if attempt >= 1 {
            if let result = try files.result(instance.key, tryNumber: attempt) { body += Self.resultSection(result) }
            body += "<h2>Log of attempt \(attempt)</h2>"
            let offset = before.map { max(0, $0 - Self.logChunk) }
            let log = try await attemptLog(instance.key, tryNumber: attempt, offset: offset, length: before.map { min(Self.logChunk, $0) } ?? Self.logChunk)
            switch log {
            case .piece(let chunk):
                var bytes = chunk.bytes
                if chunk.offset > 0 {
                    // Start at a line boundary when the piece has one (a line longer than the piece shows as it is);
                    // everything before is one click away.
                    var shownFrom = chunk.offset
                    if let newline = bytes.firstIndex(of: UInt8(ascii: "\n")), newline + 1 < bytes.endIndex {
                        shownFrom = chunk.offset + (newline - bytes.startIndex) + 1
                        bytes = bytes[(newline + 1)...]
                    }
                    body += "<p><a href=\"\(taskPath)?try=\(attempt)&amp;before=\(shownFrom)\">earlier lines…</a> (from byte \(shownFrom) of \(chunk.size))</p>"
                }
                let text = String(decoding: bytes, as: UTF8.self)
                body += "<pre class=\"log\">\(HTML.escape(text))</pre>"
                if chunk.end < chunk.size { body += "<p><a href=\"\(taskPath)?try=\(attempt)\">latest lines…</a></p>" }
            case .none:
                body += "<p>No log yet.</p>"
            case .unavailable(let failure):
                body += "<p class=\"error\">\(HTML.escape(failure.description))</p>"
            }
        }
        return HTML.page(title: "\(instance.key.taskId) · \(run.runId)", refresh: !instance.state.isFinished, body: body, session: sessionBar(viewer, next: taskPath))
    }

    /// Rows written and quality reports of a transform attempt.
    static func resultSection(_ result: [String: Any]) -> String {
        var body = "<h2>Results</h2>"
        for problem in result["problems"] as? [[String: Any]] ?? [] {
            body += problemSection(problem)
        }
        let outputs = result["outputs"] as? [[String: Any]] ?? []
        if !outputs.isEmpty {
            body += "<table><tr><th>written</th><th>rows</th><th>quality</th></tr>"
            for output in outputs {
                var quality = ""
                if let report = output["quality"] as? [String: Any] {
                    let rejected = (report["rejected"] as? [String: Any] ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }
                    quality = "\(report["rows_in"] ?? "?") in, \(report["rows_out"] ?? "?") out"
                        + (rejected.isEmpty ? ", none rejected" : "; rejected: " + rejected.joined(separator: ", "))
                }
                body += "<tr><td>\(HTML.escape("\(output["target"] ?? "")"))</td><td>\(HTML.escape(output["rows"].map { "\($0)" } ?? ""))</td>"
                    + "<td>\(HTML.escape(quality))</td></tr>"
            }
            body += "</table>"
        }
        let checks = result["checks"] as? [[String: Any]] ?? []
        if !checks.isEmpty {
            body += "<table><tr><th>test</th><th>outcome</th><th>failing rows</th></tr>"
            for check in checks {
                let outcome = "\(check["outcome"] ?? "")"
                body += "<tr><td>\(HTML.escape("\(check["name"] ?? "")"))</td><td class=\"outcome-\(HTML.escape(outcome))\">\(HTML.escape(outcome))</td>"
                    + "<td>\(HTML.escape("\(check["failing_rows"] ?? "")"))</td></tr>"
            }
            body += "</table>"
        }
        return body
    }

    /// Why a transform failed, or what it warns about: the message, the rules that rejected most rows and a few
    /// example rows (file:line, rule, reason).
    static func problemSection(_ problem: [String: Any]) -> String {
        let severity = "\(problem["severity"] ?? "error")"
        var body = "<div class=\"banner problem-\(HTML.escape(severity))\">\(HTML.escape(severity)): \(HTML.escape("\(problem["message"] ?? "")"))</div>"
        let details = problem["details"] as? [String: Any] ?? [:]
        if let reasons = details["top_reasons"] as? [[String: Any]], !reasons.isEmpty {
            body += "<table><tr><th>rule</th><th>rejected rows</th></tr>"
            for reason in reasons {
                body += "<tr><td>\(HTML.escape("\(reason["rule"] ?? "")"))</td><td>\(HTML.escape("\(reason["count"] ?? "")"))</td></tr>"
            }
            body += "</table>"
        }
        if let examples = details["examples"] as? [[String: Any]], !examples.isEmpty {
            body += "<table><tr><th>where</th><th>rule</th><th>reason</th></tr>"
            for example in examples {
                body += "<tr><td>\(HTML.escape("\(example["file"] ?? ""):\(example["line"] ?? "")"))</td><td>\(HTML.escape("\(example["rule"] ?? "")"))</td>"
                    + "<td>\(HTML.escape("\(example["reason"] ?? "")"))</td></tr>"
            }
            body += "</table>"
        }
        // A data test's failing rows (models.run): its columns, then at most the rows the transform kept.
        if let columns = details["columns"] as? [String], let rows = details["rows"] as? [[Any]], !rows.isEmpty {
            body += "<table class=\"failing-rows\"><tr>" + columns.map { "<th>\(HTML.escape($0))</th>" }.joined() + "</tr>"
            for row in rows.prefix(10) {
                body += "<tr>" + row.map { value in "<td>\(value is NSNull ? "NULL" : HTML.escape("\(value)"))</td>" }.joined() + "</tr>"
            }
            body += "</table>"
        }
        return body
    }

    // MARK: Login

    func loginPage(next: String, failed: Bool) -> String {
        var body = "<h1>Log in</h1>"
        guard auth.actionsEnabled else {
            return HTML.page(title: "Log in", refresh: false, body: body + "<p>Web actions are off: no web token is configured.</p>")
        }
        if failed { body += "<div class=\"banner\">That token is not right.</div>" }
        body += "<form method=\"post\" action=\"/login\"><input type=\"hidden\" name=\"next\" value=\"\(HTML.escape(next))\">"
            + "<label>web token <input type=\"password\" name=\"token\" autocomplete=\"current-password\"></label> <button>log in</button></form>"
        return HTML.page(title: "Log in", refresh: false, body: body)
    }
}
