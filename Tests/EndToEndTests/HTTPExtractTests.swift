import Foundation
import XCTest

/// extract.http against a real HTTP server on 127.0.0.1 (a small Python script): bearer token, pagination,
/// 429 with Retry-After, 5xx with backoff, timeouts, and the token kept out of logs.
final class HTTPExtractTests: XCTestCase {
    static let server = #"""
        import http.server, json, sys, time, urllib.parse
        hits = {}
        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args): pass
            def send_json(self, status, body, headers=()):
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                for name, value in headers: self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            def do_GET(self):
                url = urllib.parse.urlparse(self.path)
                query = dict(urllib.parse.parse_qsl(url.query))
                key = url.path + "?" + url.query
                hits[key] = hits.get(key, 0) + 1
                with open(sys.argv[2], "a") as log:
                    log.write("%s %s %s\n" % (url.path, url.query, self.headers.get("Authorization")))
                if self.headers.get("Authorization") != "Bearer sekrit-token-42":
                    return self.send_json(401, {"error": "unauthorized"})
                if url.path == "/v1/events":
                    page = int(query.get("page", "1"))
                    if page == 1 and hits[key] == 1: return self.send_json(503, {"error": "busy"})
                    if page == 2 and hits[key] == 1: return self.send_json(429, {"error": "slow down"}, [("Retry-After", "1")])
                    data = {1: [{"id": 1, "text": "a, \"quoted\""}, {"id": 2}], 2: [{"id": 3}, {"id": 4, "nested": {"x": [1, 2]}}]}.get(page, [])
                    return self.send_json(200, {"data": data, "page": page})
                if url.path == "/v1/cursor":
                    if "cursor" not in query: return self.send_json(200, {"items": [{"id": "c1"}], "next_cursor": "abc"})
                    return self.send_json(200, {"items": [{"id": "c2"}], "next_cursor": None})
                if url.path == "/v1/always500": return self.send_json(500, {"error": "broken"})
                if url.path == "/v1/slow":
                    time.sleep(5)
                    return self.send_json(200, [])
                self.send_json(404, {"error": "not found"})
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        with open(sys.argv[1], "w") as f: f.write(str(server.server_address[1]))
        server.serve_forever()
        """#

    var serverProcess: Process?

    override func tearDown() {
        serverProcess?.terminate()
        serverProcess?.waitUntilExit()
    }

    func startServer(_ h: Harness) throws -> Int {
        let (process, port) = try h.startPythonServer(Self.server, name: "api", log: "requests.log")
        serverProcess = process
        return port
    }

    func testPagesRetriesAndTokenStaysSecret() throws {
        let h = try Harness()
        let port = try startServer(h)
        h.extraEnvironment["ORCHESTRATOR_CONN_API"] = "http://sekrit-token-42@127.0.0.1:\(port)/v1"
        try h.writeDag("api", """
            dag_id: api
            schedule: null
            start_date: 2024-01-01
            tasks:
              - id: events
                transform: extract.http
                with: { connection: api, path: /events, source: api, table: events, pagination: { type: page, param: page, size_param: per_page, size: 2 }, retries: 3 }
              - id: cursor
                transform: extract.http
                with: { connection: api, path: /cursor, source: api, table: cursor_items, pagination: { type: cursor, param: cursor, field: next_cursor } }
            """)
        let result = try h.run(["test", "api", "--date", "2024-01-01", "--scratch"])
        XCTAssertEqual(result.status, 0, result.stdout + result.stderr)
        let scratch = try XCTUnwrap(result.stdout.components(separatedBy: "logs in ").last?.components(separatedBy: "/logs").first)
        let events = try String(contentsOfFile: "\(scratch)/lake/bronze/api/events/ds=2024-01-01/records.jsonl", encoding: .utf8)
            .split(separator: "\n")
        XCTAssertEqual(events.count, 4)
        XCTAssertEqual(events.first, #"{"id":1,"text":"a, \"quoted\""}"#)
        let manifest = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(scratch)/lake/bronze/api/events/ds=2024-01-01/_manifest.json"))) as? [String: Any]
        XCTAssertEqual(manifest?["retries"] as? Int, 2, "one 503 and one 429")
        XCTAssertEqual(manifest?["pages"] as? Int, 3)
        XCTAssertTrue(result.stdout.contains("HTTP 429; retry 1 of 3 in 1.0s"), result.stdout)
        let cursor = try String(contentsOfFile: "\(scratch)/lake/bronze/api/cursor_items/ds=2024-01-01/records.jsonl", encoding: .utf8)
        XCTAssertEqual(cursor, "{\"id\":\"c1\"}\n{\"id\":\"c2\"}\n")
        XCTAssertTrue(h.lines("requests.log").allSatisfy { $0.hasSuffix("Bearer sekrit-token-42") }, "\(h.lines("requests.log"))")
        XCTAssertFalse(result.stdout.contains("sekrit-token-42") || result.stderr.contains("sekrit-token-42"))
    }

    func testServerErrorsAndTimeoutsFailTheTaskWithAReason() throws {
        let h = try Harness()
        let port = try startServer(h)
        h.extraEnvironment["ORCHESTRATOR_CONN_API"] = "http://sekrit-token-42@127.0.0.1:\(port)/v1"
        try h.writeDag("broken_api", """
            dag_id: broken_api
            schedule: null
            start_date: 2024-01-01
            tasks:
              - id: errors
                transform: extract.http
                with: { connection: api, path: /always500, source: api, table: errors, retries: 1 }
              - id: slow
                transform: extract.http
                with: { connection: api, path: /slow, source: api, table: slow, retries: 0, timeout: 1 }
            """)
        let result = try h.run(["test", "broken_api", "--date", "2024-01-01"])
        XCTAssertEqual(result.status, 1)
        // The two tasks run at once and share the terminal, so read each one's own log.
        let scratch = try XCTUnwrap(result.stdout.components(separatedBy: "logs in ").last?.components(separatedBy: "/logs").first)
        func log(_ task: String) throws -> String {
            try String(contentsOfFile: "\(scratch)/logs/broken_api/manual__2024-01-01T00:00:00Z/\(task)/attempt-1.log", encoding: .utf8)
        }
        let errors = try log("errors"), slow = try log("slow")
        XCTAssertTrue(errors.contains("GET http://127.0.0.1:\(port)/v1/always500 failed: HTTP 500 after 2 attempts"), errors)
        XCTAssertTrue(slow.contains("/v1/slow failed: Timeout"), slow)
        XCTAssertFalse(result.stdout.contains("sekrit-token-42"))
    }
}
