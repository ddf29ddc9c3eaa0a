import Foundation
import XCTest

/// The daemon's HTTP side on a real socket: pages (escaped), the JSON API with its errors, logs that cannot
/// leave their folder, /healthz, /metrics, and the token-protected actions.
final class WebStatusTests: XCTestCase {
    let http = HTTPClient()
    static let token = "test-token-0123456789abcdef"

    func json(_ reply: HTTPClient.Reply) throws -> Any {
        try XCTUnwrap(reply.json, "not JSON (\(reply.status)): \(reply.body)")
    }

    func testPagesApiHealthAndMetrics() throws {
        let h = try Harness()
        try h.writeDag("web", """
            dag_id: web
            description: "<script>alert('x')</script> & friends"
            schedule: null
            start_date: 2024-01-01
            tasks:
              - { id: extract, command: "echo '<script>alert(1)</script>'; echo postgres://u:s3cret@db/x" }
              - { id: fail_here, depends_on: [extract], command: "exit 1" }
            """)
        try h.writeDag("daily", "dag_id: daily\nschedule: \"@daily\"\nstart_date: 2030-01-01\ntasks:\n  - { id: a, command: \"true\" }\n")
        try h.writeDag("broken", "dag_id: broken\nschedule: \"* *\"\nstart_date: 2024-01-01\ntasks: []\n")
        try h.startDaemon()
        XCTAssertEqual(try h.run(["trigger", "web", "--date", "2024-01-01"]).status, 0)
        try h.waitFor("the run to finish") { try h.runStates(dag: "web") == ["failed"] }
        let base = try XCTUnwrap(h.webURL, h.daemonLogText)
        XCTAssertTrue(base.hasPrefix("http://127.0.0.1:"), "binds loopback by default: \(base)")

        XCTAssertEqual(try http.get(base + "healthz").status, 200)
        let home = try http.get(base)
        XCTAssertEqual(home.status, 200)
        XCTAssertTrue(home.body.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; friends"), home.body)
        XCTAssertFalse(home.body.contains("<script>"), "nothing from a DAG file reaches the page unescaped")
        XCTAssertTrue(home.body.contains("class=\"banner\"") && home.body.contains("broken.yaml"), home.body)
        XCTAssertTrue(home.body.contains("logical date 2030-01-01T00:00:00Z"), "the next run of a scheduled DAG: \(home.body)")
        XCTAssertTrue(home.headers["content-security-policy"]?.contains("script-src 'none'") ?? false, "\(home.headers)")

        let grid = try http.get(base + "dags/web")
        XCTAssertEqual(grid.status, 200)
        XCTAssertTrue(grid.body.contains("data-state=\"success\"") && grid.body.contains("data-state=\"failed\""), grid.body)
        XCTAssertTrue(grid.body.contains("<svg class=\"graph\"") && grid.body.contains("data-task=\"fail_here\" data-state=\"failed\""), grid.body)
        XCTAssertTrue(grid.body.contains("<path d=\"M"), "an edge from extract to fail_here: \(grid.body)")
        XCTAssertFalse(grid.body.contains("<form"), "no action forms without a token")
        XCTAssertFalse(grid.body.contains("http-equiv=\"refresh\""), "no refresh once every run has finished")

        let dags = try XCTUnwrap(try json(try http.get(base + "api/v1/dags")) as? [String: Any])
        XCTAssertEqual((dags["dags"] as? [[String: Any]])?.compactMap { $0["dag_id"] as? String }, ["daily", "web"])
        XCTAssertEqual((dags["import_errors"] as? [[String: Any]])?.count, 1)
        let detail = try XCTUnwrap(try json(try http.get(base + "api/v1/dags/daily")) as? [String: Any])
        XCTAssertEqual((detail["next_run"] as? [String: Any])?["due"] as? String, "2030-01-02T00:00:00Z")
        let runs = try XCTUnwrap(try json(try http.get(base + "api/v1/dags/web/runs")) as? [[String: Any]])
        XCTAssertEqual(runs.first?["state"] as? String, "failed")
        let runId = try XCTUnwrap(runs.first?["run_id"] as? String)
        let run = HTTPClient.encoded(runId)
        XCTAssertEqual((try json(try http.get(base + "api/v1/dags/web/runs/\(run)")) as? [String: Any])?["run_id"] as? String, runId)
        let tasks = try http.get(base + "api/v1/dags/web/runs/\(run)/tasks")
        XCTAssertEqual(tasks.status, 200, tasks.body)
        XCTAssertTrue(tasks.body.contains("\"task_id\":\"fail_here\""), tasks.body)
        let task = try XCTUnwrap(try json(try http.get(base + "api/v1/dags/web/runs/\(run)/tasks/fail_here")) as? [String: Any])
        XCTAssertEqual((task["attempts"] as? [[String: Any]])?.first?["exit_code"] as? Int, 1)
        let log = try XCTUnwrap(try json(try http.get(base + "api/v1/dags/web/runs/\(run)/tasks/extract/logs/1")) as? [String: Any])
        XCTAssertTrue((log["content"] as? String)?.contains("<script>alert(1)</script>") ?? false, "\(log)")
        let whole = try XCTUnwrap(log["content"] as? String)
        XCTAssertFalse(whole.contains("s3cret"), "a password in a URL is masked in the log API")
        let passwordAt = try XCTUnwrap(whole.utf8.firstRange(of: "://u:".utf8)).upperBound
        let window = try XCTUnwrap(try json(try http.get(base + "api/v1/dags/web/runs/\(run)/tasks/extract/logs/1?offset=\(whole.utf8.distance(from: whole.utf8.startIndex, to: passwordAt))&length=9")) as? [String: Any])
        XCTAssertEqual(window["content"] as? String, "******@db", "a window starting inside the URL does not reveal the password")
        XCTAssertEqual(try http.get(base + "healthz", headers: ["Host": "evil.example:80"]).status, 421, "DNS rebinding: other host names are refused")
        XCTAssertEqual(try http.get(base + "healthz", headers: ["Host": "localhost"]).status, 200)
        let part = try XCTUnwrap(try json(try http.get(base + "api/v1/dags/web/runs/\(run)/tasks/extract/logs/1?offset=0&length=10")) as? [String: Any])
        XCTAssertEqual((part["content"] as? String)?.utf8.count, 10)
        XCTAssertEqual(part["next_offset"] as? Int, 10)

        let runPage = try http.get(base + "dags/web/runs/\(run)")
        XCTAssertEqual(runPage.status, 200)
        XCTAssertTrue(runPage.body.contains("exit code 1") || runPage.body.contains(">1</td>"), runPage.body)
        let taskPage = try http.get(base + "dags/web/runs/\(run)/tasks/extract")
        XCTAssertEqual(taskPage.status, 200)
        XCTAssertTrue(taskPage.body.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "the log shows as text: \(taskPage.body)")
        XCTAssertFalse(taskPage.body.contains("<script>"), taskPage.body)
        XCTAssertFalse(taskPage.body.contains("s3cret"), "a password in a command line is masked on the page")

        // Unknown things are 404 with a message; bad parameters 400.
        for path in ["api/v1/dags/nope/runs", "dags/nope", "api/v1/dags/web/runs/nope/tasks", "dags/web/runs/nope",
                     "dags/web/runs/\(run)/tasks/nope", "api/v1/dags/web/runs/\(run)/tasks/extract/logs/9", "api/v1/dags/nope",
                     "dags/web/runs/\(run)/tasks/extract?try=7"] {
            let reply = try http.get(base + path)
            XCTAssertEqual(reply.status, 404, path)
            XCTAssertTrue(reply.body.contains("nope") || reply.body.contains("attempt"), "\(path): \(reply.body)")
        }
        let missingPage = try http.get(base + "dags/%3Cscript%3Enope")
        XCTAssertEqual(missingPage.status, 404)
        XCTAssertTrue(missingPage.headers["content-type"]?.hasPrefix("text/html") ?? false, "pages answer errors as pages")
        XCTAssertTrue(missingPage.body.contains("unknown DAG &#39;&lt;script&gt;nope&#39;"), missingPage.body)
        XCTAssertTrue(try http.get(base + "api/v1/dags/nope").headers["content-type"]?.hasPrefix("application/json") ?? false)
        for path in ["api/v1/dags/web/runs?limit=0", "api/v1/dags/web/runs?limit=abc", "api/v1/dags/web/runs?offset=-1",
                     "api/v1/dags/web/runs/\(run)/tasks/extract/logs/0", "api/v1/dags/web/runs/\(run)/tasks/extract/logs/x",
                     "api/v1/dags/web/runs/\(run)/tasks/extract/logs/1?length=0", "dags/web?offset=x", "dags/web/runs/\(run)/tasks/extract?try=x"] {
            XCTAssertEqual(try http.get(base + path).status, 400, path)
        }

        let metrics = try http.get(base + "metrics")
        XCTAssertTrue(metrics.body.contains("orchestrator_runs{state=\"failed\"} 1"), metrics.body)
        XCTAssertTrue(metrics.body.contains("orchestrator_import_errors 1"), metrics.body)
        XCTAssertTrue(metrics.body.contains("orchestrator_task_duration_seconds_count{dag_id=\"web\"} 2"), metrics.body)
        XCTAssertTrue(metrics.body.contains("orchestrator_scheduler_loop_seconds_bucket{le=\"+Inf\"}"), metrics.body)
        XCTAssertTrue(metrics.body.contains("orchestrator_queue_depth 0"), metrics.body)
        XCTAssertEqual(h.stopDaemon(), 0)
    }

    func testDagPageShowsBackfillProgress() throws {
        let h = try Harness()
        try h.writeDag("filled", "dag_id: filled\nschedule: \"@daily\"\nstart_date: 2024-01-01\ncatchup: false\ntasks:\n  - { id: a, command: \"true\" }\n")
        try h.startDaemon()
        let backfill = try h.run(["backfill", "filled", "--start", "2024-01-01", "--end", "2024-01-03"])
        XCTAssertEqual(backfill.status, 0, backfill.stderr)
        let base = try XCTUnwrap(h.webURL)
        let page = try http.get(base + "dags/filled").body
        XCTAssertTrue(page.contains("backfill #1 2024-01-01 → 2024-01-03: 3 of 3 runs done (success 3)"), page)
        let detail = try XCTUnwrap(try json(try http.get(base + "api/v1/dags/filled")) as? [String: Any])
        let progress = try XCTUnwrap((detail["backfills"] as? [[String: Any]])?.first)
        XCTAssertEqual((progress["runs"] as? [String: Any])?["success"] as? Int, 3, "\(progress)")
        XCTAssertEqual(h.stopDaemon(), 0)
    }

    func testLogRequestsCannotLeaveTheLogsFolder() throws {
        let h = try Harness()
        try h.writeDag("logs", "dag_id: logs\nschedule: null\nstart_date: 2024-01-01\ntasks:\n  - { id: t, command: \"echo inside\" }\n")
        try h.startDaemon()
        XCTAssertEqual(try h.run(["trigger", "logs", "--date", "2024-01-01"]).status, 0)
        try h.waitFor("the run to finish") { try h.runStates(dag: "logs") == ["success"] }
        let base = try XCTUnwrap(h.webURL)
        let run = HTTPClient.encoded("manual__2024-01-01T00:00:00Z")
        XCTAssertEqual(try http.get(base + "api/v1/dags/logs/runs/\(run)/tasks/t/logs/1").status, 200)
        let attacks = [
            "api/v1/dags/logs/runs/..%2F..%2F..%2F..%2Fetc/tasks/passwd/logs/1",
            "api/v1/dags/logs/runs/%2E%2E/tasks/t/logs/1",
            "api/v1/dags/logs/runs/\(run)/tasks/..%2F..%2F..%2Fetc%2Fpasswd/logs/1",
            "api/v1/dags/logs/runs/%2Fetc%2Fpasswd/tasks/t/logs/1",
            "api/v1/dags/logs/runs/%252e%252e%252f%252e%252e/tasks/t/logs/1",
            "api/v1/dags/..%5C..%5Cetc/runs/\(run)/tasks/t/logs/1",
            "dags/logs/runs/\(run)/tasks/..%2F..%2F..%2F..%2Fetc%2Fpasswd",
        ]
        for path in attacks {
            let reply = try http.get(base + path)
            XCTAssertTrue([400, 404].contains(reply.status), "\(path) → \(reply.status)")
            XCTAssertFalse(reply.body.contains("root:"), path)
        }
        XCTAssertEqual(try http.get(base + attacks[0]).status, 400, "a path-like id is refused before any lookup")
        // A log file that is a link out of the folder is refused too.
        let logFile = h.home.appendingPathComponent("logs/logs/manual__2024-01-01T00:00:00Z/t/attempt-1.log")
        try FileManager.default.removeItem(at: logFile)
        try FileManager.default.createSymbolicLink(atPath: logFile.path, withDestinationPath: "/etc/passwd")
        let linked = try http.get(base + "api/v1/dags/logs/runs/\(run)/tasks/t/logs/1")
        XCTAssertEqual(linked.status, 400, linked.body)
        XCTAssertFalse(linked.body.contains("root:"))
        // A task that swaps its log for a FIFO cannot make the server wait on it.
        try FileManager.default.removeItem(at: logFile)
        XCTAssertEqual(mkfifo(logFile.path, 0o644), 0)
        XCTAssertEqual(try http.get(base + "api/v1/dags/logs/runs/\(run)/tasks/t/logs/1").status, 400)
        XCTAssertEqual(try http.get(base + "dags/logs/runs/\(run)/tasks/t").status, 400)
        XCTAssertEqual(try http.get(base + "healthz").status, 200)
        XCTAssertEqual(h.stopDaemon(), 0)
    }

    func testTaskPageShowsAttemptsLogTailAndTransformResults() throws {
        let h = try Harness()
        let input = h.dags.appendingPathComponent("in/2024-01-01")
        try FileManager.default.createDirectory(at: input, withIntermediateDirectories: true)
        try "id,name\n1,a\n2,b\n3,c\n".write(toFile: input.appendingPathComponent("people.csv").path, atomically: true, encoding: .utf8)
        try h.writeDag("pages", """
            dag_id: pages
            schedule: null
            start_date: 2024-01-01
            tasks:
              - id: flaky
                retries: 1
                retry_delay: 0s
                command: 'seq 1 20000 | sed "s/^/line /"; if [ "$ORCHESTRATOR_TRY_NUMBER" = 1 ]; then exit 3; fi'
              - id: extract
                transform: extract.files
                with: { source: crm, files: ["in/{{ ds }}/people.csv"] }
            """)
        try h.startDaemon()
        XCTAssertEqual(try h.run(["trigger", "pages", "--date", "2024-01-01"]).status, 0)
        try h.waitFor("the run to finish") { try h.runStates(dag: "pages") == ["success"] }
        let base = try XCTUnwrap(h.webURL) + "dags/pages/runs/\(HTTPClient.encoded("manual__2024-01-01T00:00:00Z"))/tasks/"
        let flaky = try http.get(base + "flaky")
        XCTAssertEqual(flaky.status, 200)
        XCTAssertTrue(flaky.body.contains("?try=1") && flaky.body.contains("?try=2"), "both attempts listed: \(flaky.body)")
        XCTAssertTrue(flaky.body.contains("line 20000") && !flaky.body.contains("line 1\n"), "the tail comes first")
        XCTAssertTrue(flaky.body.contains("earlier lines…"), flaky.body.suffix(500).description)
        let first = try http.get(base + "flaky?try=1")
        XCTAssertTrue(first.body.contains("(exit code 3)"), first.body.suffix(800).description)
        // Walking back through "earlier lines" reaches the start of the log.
        var page = flaky.body
        var steps = 0
        while let range = page.range(of: #"before=\d+"#, options: .regularExpression), steps < 10 {
            page = try http.get(base + "flaky?try=2&" + page[range]).body
            steps += 1
        }
        XCTAssertTrue(page.contains("line 1\n"), "the first lines are reachable")
        let extract = try http.get(base + "extract")
        XCTAssertTrue(extract.body.contains("<h2>Results</h2>") && extract.body.contains("bronze/crm/people/ds=2024-01-01/people.csv"), extract.body)
        XCTAssertTrue(extract.body.contains("<td>3</td>"), "three rows copied: \(extract.body)")
        XCTAssertEqual(h.stopDaemon(), 0)
    }

    /// A silver.clean over its reject limit fails, and its task page says why: table, ratio, rules, example rows.
    func testTaskPageShowsWhySilverCleanFailed() throws {
        let h = try Harness()
        let input = h.dags.appendingPathComponent("in/2024-01-01")
        try FileManager.default.createDirectory(at: input, withIntermediateDirectories: true)
        try "id,price\nA1,\"12,50\"\nA2,\"3,10\"\nA3,\"4,25\"\nA4,1\n".write(toFile: input.appendingPathComponent("sales.csv").path, atomically: true, encoding: .utf8)
        try """
            tables:
              sales:
                columns:
                  - { name: id, type: string, required: true }
                  - { name: price, type: decimal, required: true }
            """.write(toFile: h.dags.appendingPathComponent("rules.yaml").path, atomically: true, encoding: .utf8)
        try h.writeDag("drift", """
            dag_id: drift
            schedule: null
            start_date: 2024-01-01
            tasks:
              - id: extract
                transform: extract.files
                with: { source: shop, files: ["in/{{ ds }}/sales.csv"] }
              - id: silver
                transform: silver.clean
                depends_on: [extract]
                with: { source: shop, rules: rules.yaml }
            """)
        try h.startDaemon()
        XCTAssertEqual(try h.run(["trigger", "drift", "--date", "2024-01-01"]).status, 0)
        try h.waitFor("the run to fail") { try h.runStates(dag: "drift") == ["failed"] }
        let page = try http.get(try XCTUnwrap(h.webURL) + "dags/drift/runs/\(HTTPClient.encoded("manual__2024-01-01T00:00:00Z"))/tasks/silver")
        XCTAssertEqual(page.status, 200)
        XCTAssertTrue(page.body.contains("error: silver.clean: table sales ds=2024-01-01: 3 of 4 rows rejected (75.0%, above max_reject_ratio 0.5): type 3"), page.body)
        XCTAssertTrue(page.body.contains("<td>sales.csv:2</td><td>type</td>"), page.body)
        XCTAssertFalse(FileManager.default.fileExists(atPath: h.home.appendingPathComponent("lake/silver/sales/ds=2024-01-01").path), "nothing published")
        XCTAssertEqual(h.stopDaemon(), 0)
    }

    func testActionsNeedTheTokenAndCsrf() throws {
        let h = try Harness()
        h.extraEnvironment["ORCHESTRATOR_WEB_TOKEN"] = Self.token
        try h.writeDag("act", """
            dag_id: act
            schedule: null
            start_date: 2024-01-01
            tasks:
              - { id: a, command: "exit 1" }
              - { id: b, depends_on: [a], command: "true" }
              - { id: c, command: 'echo "web token is ${ORCHESTRATOR_WEB_TOKEN:-absent}"' }
            """)
        try h.startDaemon()
        let base = try XCTUnwrap(h.webURL)
        let bearer = ["Authorization": "Bearer \(Self.token)"]
        XCTAssertEqual(try http.send("POST", base + "api/v1/dags/act/runs", headers: bearer, body: #"{"params": {"n": [1]}}"#).status, 400)

        // API: bearer token
        XCTAssertEqual(try http.send("POST", base + "api/v1/dags/act/runs", body: "{}").status, 401)
        XCTAssertEqual(try http.send("POST", base + "api/v1/dags/act/runs", headers: ["Authorization": "Bearer wrong-token-000000000"], body: "{}").status, 401)
        let created = try http.send("POST", base + "api/v1/dags/act/runs", headers: bearer, body: #"{"logical_date": "2024-01-01"}"#)
        XCTAssertEqual(created.status, 201, created.body)
        XCTAssertEqual(try http.send("POST", base + "api/v1/dags/act/runs", headers: bearer, body: #"{"logical_date": "2024-01-01"}"#).status, 409)
        XCTAssertEqual(try http.send("POST", base + "api/v1/dags/act/runs", headers: bearer, body: #"{"logical_date": "yesterday"}"#).status, 400)
        XCTAssertEqual(try http.send("POST", base + "api/v1/dags/act/runs", headers: bearer, body: "not json").status, 400)
        XCTAssertEqual(try http.send("POST", base + "api/v1/dags/nope/runs", headers: bearer, body: "{}").status, 404)
        try h.waitFor("the run to fail") { try h.runStates(dag: "act") == ["failed"] }
        let run = HTTPClient.encoded("manual__2024-01-01T00:00:00Z")
        let taskLog = try http.get(base + "api/v1/dags/act/runs/\(run)/tasks/c/logs/1").body
        XCTAssertTrue(taskLog.contains("web token is absent"), "tasks never see the web token: \(taskLog)")
        XCTAssertEqual(try http.send("POST", base + "api/v1/dags/act/runs/\(run)/clear", headers: bearer, body: #"{"tasks": ["zzz"]}"#).status, 400)
        XCTAssertEqual(try http.send("POST", base + "api/v1/dags/act/runs/nope/clear", headers: bearer, body: "{}").status, 404)
        let cleared = try http.send("POST", base + "api/v1/dags/act/runs/\(run)/clear", headers: bearer, body: #"{"tasks": ["a"], "downstream": true}"#)
        XCTAssertEqual((try json(cleared) as? [String: Any])?["cleared"] as? Int, 2, cleared.body)
        try h.waitFor("the cleared run to fail again") {
            try h.runStates(dag: "act") == ["failed"] && (try h.tasks(dag: "act", date: "2024-01-01")["a"]?["try_number"] as? Int) == 2
        }
        XCTAssertEqual(try http.send("POST", base + "api/v1/dags/act/pause", headers: bearer).status, 200)
        XCTAssertTrue(try h.run(["dags", "list"]).stdout.contains("yes"), "paused through the API")
        XCTAssertEqual(try http.send("POST", base + "api/v1/dags/act/unpause", headers: bearer).status, 200)

        // Pages: log in with the token, then forms carry the session's CSRF token.
        XCTAssertFalse(try http.get(base + "dags/act").body.contains("<form"), "no forms before logging in")
        XCTAssertTrue(try http.get(base + "login?next=/dags/act").body.contains("type=\"password\" name=\"token\""))
        XCTAssertEqual(try http.post(base + "login", form: ["token": "wrong", "next": "/dags/act"]).status, 401)
        let login = try http.post(base + "login", form: ["token": Self.token, "next": "/dags/act"])
        XCTAssertEqual(login.status, 303)
        XCTAssertEqual(login.headers["location"], "/dags/act")
        let setCookie = try XCTUnwrap(login.headers["set-cookie"])
        XCTAssertTrue(setCookie.contains("HttpOnly") && setCookie.contains("SameSite=Strict"), setCookie)
        let cookie = String(setCookie.prefix { $0 != ";" })
        for next in ["//elsewhere.example/x", "/\t/elsewhere.example/x", "/\\elsewhere.example", " //elsewhere.example"] {
            XCTAssertEqual(try http.post(base + "login", form: ["token": Self.token, "next": next]).headers["location"], "/",
                           "no redirect off the site after a login: \(next)")
        }
        let page = try http.get(base + "dags/act", headers: ["Cookie": cookie]).body
        let csrfRange = try XCTUnwrap(page.range(of: #"name="csrf" value="[0-9a-f]+""#, options: .regularExpression), page)
        let csrf = String(page[csrfRange].split(separator: "\"")[3])
        XCTAssertEqual(try http.post(base + "dags/act/pause", form: [:], cookie: cookie).status, 401, "no CSRF token")
        XCTAssertEqual(try http.post(base + "dags/act/pause", form: ["csrf": String(repeating: "0", count: 64)], cookie: cookie).status, 401)
        XCTAssertEqual(try http.post(base + "dags/act/pause", form: ["csrf": csrf]).status, 401, "no session")
        XCTAssertEqual(try http.post(base + "dags/act/pause", form: ["csrf": csrf], cookie: cookie).status, 303)
        XCTAssertTrue(try http.get(base + "dags/act").body.contains("paused</small>"))
        XCTAssertEqual(try http.post(base + "dags/act/unpause", form: ["csrf": csrf], cookie: cookie).status, 303)
        let triggered = try http.post(base + "dags/act/trigger", form: ["csrf": csrf, "logical_date": "2024-02-01"], cookie: cookie)
        XCTAssertEqual(triggered.status, 303)
        XCTAssertEqual(triggered.headers["location"], "/dags/act/runs/manual__2024-02-01T00:00:00Z")
        try h.waitFor("the triggered run") { try h.runStates(dag: "act").count == 2 }
        let clear = try http.post(base + "dags/act/runs/\(run)/clear", form: ["csrf": csrf, "task": "a", "downstream": "1"], cookie: cookie)
        XCTAssertEqual(clear.status, 303, clear.body)
        XCTAssertEqual(clear.headers["location"], "/dags/act/runs/manual__2024-01-01T00:00:00Z/tasks/a")
        try h.waitFor("the third attempt of a, cleared from the page") {
            (try h.tasks(dag: "act", date: "2024-01-01")["a"]?["try_number"] as? Int) == 3
        }
        XCTAssertEqual(try http.post(base + "logout", form: ["csrf": csrf], cookie: cookie).status, 303)
        XCTAssertEqual(try http.post(base + "dags/act/pause", form: ["csrf": csrf], cookie: cookie).status, 401, "the session ended")
        XCTAssertFalse(h.daemonLogText.contains(Self.token), "the token never reaches the log")
        XCTAssertEqual(h.stopDaemon(), 0)
    }

    func testActionsAreOffWithoutAToken() throws {
        let h = try Harness()
        try h.writeDag("quiet", "dag_id: quiet\nschedule: null\nstart_date: 2024-01-01\ntasks:\n  - { id: a, command: \"true\" }\n")
        try h.startDaemon()
        let base = try XCTUnwrap(h.webURL)
        let reply = try http.send("POST", base + "api/v1/dags/quiet/runs", headers: ["Authorization": "Bearer anything-at-all-12345"], body: "{}")
        XCTAssertEqual(reply.status, 403)
        XCTAssertTrue(reply.body.contains("no web token is configured"), reply.body)
        XCTAssertEqual(try http.post(base + "login", form: ["token": "x"]).status, 403)
        XCTAssertEqual(try http.post(base + "dags/quiet/pause", form: ["csrf": "x"]).status, 403)
        XCTAssertTrue(try h.runs(dag: "quiet").isEmpty)
        XCTAssertEqual(h.stopDaemon(), 0)
    }
}
