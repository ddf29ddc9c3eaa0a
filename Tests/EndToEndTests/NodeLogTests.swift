import Foundation
import XCTest

/// Every node's pages and API show every attempt's log, wherever it ran: two daemons on one store file (distinct
/// homes, names and ports); node-b runs the task, node-a serves its log by asking node-b with the node token
/// (docs/decisions/0014-node-logs.md).
final class NodeLogTests: XCTestCase {
    let http = HTTPClient()
    let token = "node-token-for-the-tests-0123456789"
    let runId = "manual__2024-01-01T00:00:00Z"
    /// A URL password the task prints: masked on every node.
    let printedPassword = "hunter2-in-the-log"

    /// A log of about 200 KB (four pages of 64 KiB), with a password near its start and multi-byte characters, so
    /// that pieces cut inside a UTF-8 sequence and byte offsets are pinned.
    var dag: String {
        """
        dag_id: logs
        schedule: null
        start_date: 2024-01-01
        tasks:
          - id: say
            command: 'env > "$WORK/task-env.txt"; echo "connecting to postgres://app:\(printedPassword)@db.example.org/shop"; for i in $(seq 1 3000); do printf "line %05d é %s\\n" $i abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz; done'
        """
    }

    func makeNodes() throws -> (a: Harness, b: Harness, store: String) {
        let a = try Harness(), b = try Harness()
        let storePath = a.path("shared.db")
        for (h, name) in [(a, "node-a"), (b, "node-b")] {
            try h.writeDag("logs", dag)
            h.extraEnvironment["ORCHESTRATOR_STORE"] = "sqlite://" + storePath
            h.extraEnvironment["ORCHESTRATOR_NODE_NAME"] = name
            h.extraEnvironment["ORCHESTRATOR_NODE_TOKEN"] = token
        }
        return (a, b, storePath)
    }

    func logURL(_ base: String, _ query: String = "") -> String {
        base + "api/v1/dags/logs/runs/\(HTTPClient.encoded(runId))/tasks/say/logs/1" + query
    }

    func pageURL(_ base: String, _ query: String = "") -> String {
        base + "dags/logs/runs/\(HTTPClient.encoded(runId))/tasks/say" + query
    }

    func internalURL(_ base: String, dag: String = "logs", run: String? = nil, task: String = "say", attempt: String = "1") -> String {
        base + "internal/v1/logs/\(dag)/\(run ?? HTTPClient.encoded(runId))/\(task)/\(attempt)"
    }

    /// The log as a page shows it: the text in <pre> and the paging links around it.
    func logSection(_ page: String) -> String {
        guard let start = page.range(of: "<h2>Log of attempt") else { return "" }
        return String(page[start.lowerBound...]).components(separatedBy: "</body>").first ?? ""
    }

    func testAnAttemptsLogIsTheSameOnEveryNodesPagesAndAPI() throws {
        let (a, b, _) = try makeNodes()
        try b.startDaemon()
        XCTAssertEqual(try b.run(["trigger", "logs", "--date", "2024-01-01"]).status, 0)
        try b.waitFor("node-b to run the task") { try b.runStates(dag: "logs") == ["success"] }
        try a.startDaemon()
        let baseA = try XCTUnwrap(a.webURL, a.daemonLogText), baseB = try XCTUnwrap(b.webURL, b.daemonLogText)
        XCTAssertNotEqual(baseA, baseB)
        let logFile = b.home.appendingPathComponent("logs/logs/\(runId)/say/attempt-1.log").path
        XCTAssertFalse(FileManager.default.fileExists(atPath: a.home.appendingPathComponent("logs/logs/\(runId)/say/attempt-1.log").path))
        let raw = try Data(contentsOf: URL(fileURLWithPath: logFile))
        XCTAssertGreaterThan(raw.count, 200_000)

        // Each node's row says where it is reached; A's API lists both.
        let nodes = try XCTUnwrap(try http.get(baseA + "api/v1/nodes").json as? [[String: Any]])
        XCTAssertEqual(nodes.map { $0["name"] as? String }, ["node-a", "node-b"])
        XCTAssertEqual(nodes.map { ($0["address"] as? String).map { $0 + "/" } }, [baseA, baseB])

        // The API: the same pieces, byte for byte, from either node: the tail, the start (with the masked password),
        // a piece cut inside "é", the end and past it.
        let size = raw.count
        for query in ["", "?offset=0&length=300", "?offset=100001&length=70000", "?offset=\(size - 10)&length=100", "?offset=\(size + 5)",
                      "?length=4194304"] {
            let fromB = try http.get(logURL(baseB, query)), fromA = try http.get(logURL(baseA, query))
            XCTAssertEqual(fromB.status, 200, query)
            XCTAssertEqual(fromA.status, 200, "\(query): \(fromA.body)")
            let objectA = try XCTUnwrap(fromA.json as? [String: Any], fromA.body), objectB = try XCTUnwrap(fromB.json as? [String: Any])
            XCTAssertEqual(NSDictionary(dictionary: objectA), NSDictionary(dictionary: objectB), query)
            XCTAssertEqual(objectA["size"] as? Int, size, query)
            XCTAssertFalse(fromA.body.contains(printedPassword), query)
            XCTAssertFalse(fromA.body.contains(token), query)
        }
        // Expected values from the file itself: a piece past the password is its bytes as they are.
        let middle = try XCTUnwrap(try http.get(logURL(baseA, "?offset=150000&length=1000")).json as? [String: Any])
        XCTAssertEqual(middle["content"] as? String, String(decoding: raw[150_000..<151_000], as: UTF8.self))
        XCTAssertEqual(middle["next_offset"] as? Int, 151_000)
        // Masked byte for byte, so offsets stay true.
        let masked = "postgres://app:" + String(repeating: "*", count: printedPassword.utf8.count) + "@db.example.org"
        let start = try XCTUnwrap(try http.get(logURL(baseA, "?offset=0&length=2000")).json as? [String: Any])
        XCTAssertTrue((start["content"] as? String)?.contains(masked) ?? false, "\(start)")
        XCTAssertEqual((start["content"] as? String)?.utf8.count, 2000, "masked byte for byte: offsets stay true")

        // The pages: the same text and paging links, and following "earlier lines" pages by byte offset alike.
        var query = "", pages = 0
        for _ in 0..<6 {
            pages += 1
            let pageA = try http.get(pageURL(baseA, query)), pageB = try http.get(pageURL(baseB, query))
            XCTAssertEqual(pageA.status, 200, query)
            XCTAssertEqual(logSection(pageA.body), logSection(pageB.body), query)
            if query.isEmpty { XCTAssertTrue(logSection(pageA.body).contains("line 03000 é"), logSection(pageA.body)) }
            XCTAssertTrue(pageA.body.contains("<td>node-b</td>"), pageA.body)
            XCTAssertFalse(pageA.body.contains(printedPassword))
            guard let range = pageA.body.range(of: "before=") else { break }
            query = "?try=1&before=" + String(pageA.body[range.upperBound...].prefix { $0.isNumber })
        }
        XCTAssertEqual(pages, 4, "a 200 KB log is four pages of 64 KiB, the first from byte 0")
        XCTAssertTrue(logSection(try http.get(pageURL(baseA, query)).body).contains("connecting to postgres://app:*"), query)
        XCTAssertTrue(try http.get(pageURL(baseA, "?try=1&before=3000")).body.contains(masked))

        // The task never saw the node token.
        let taskEnvironment = try String(contentsOfFile: b.path("task-env.txt"), encoding: .utf8)
        XCTAssertFalse(taskEnvironment.contains(token), "the node token reached the task")
        XCTAssertFalse(taskEnvironment.contains("ORCHESTRATOR_NODE_TOKEN"))
        XCTAssertFalse(a.daemonLogText.contains(token) || b.daemonLogText.contains(token), "the node token was logged")
        // Both nodes are on this machine; the log says other machines would need advertise_url.
        XCTAssertTrue(b.daemonLogText.contains("only this machine reaches this node's logs"), b.daemonLogText)

        XCTAssertEqual(a.stopDaemon(), 0)
        XCTAssertEqual(b.stopDaemon(), 0)
    }

    func testTheInternalRouteServesOnlyWithTheTokenAndOnlyInsideTheLogsFolder() throws {
        let (_, b, _) = try makeNodes()
        try b.startDaemon()
        XCTAssertEqual(try b.run(["trigger", "logs", "--date", "2024-01-01"]).status, 0)
        try b.waitFor("node-b to run the task") { try b.runStates(dag: "logs") == ["success"] }
        let base = try XCTUnwrap(b.webURL)
        let url = internalURL(base) + "?offset=0&length=100"
        let good = try http.get(url, headers: ["Authorization": "Bearer \(token)"])
        XCTAssertEqual(good.status, 200, good.body)
        let window = try XCTUnwrap((good.json as? [String: Any])?["window"] as? String)
        XCTAssertFalse(String(decoding: Data(base64Encoded: window) ?? Data(), as: UTF8.self).contains(printedPassword), "masked before it leaves")

        // Missing, wrong, or almost right tokens: 401 and nothing of the log.
        for header in [nil, "Bearer wrong-token-wrong-token-wrong", "Bearer " + token.dropLast(), "Bearer \(token)x", token, "Basic \(token)"] {
            let reply = try http.get(url, headers: header.map { ["Authorization": $0] } ?? [:])
            XCTAssertEqual(reply.status, 401, "\(header ?? "no header"): \(reply.body)")
            XCTAssertFalse(reply.body.contains("window") || reply.body.contains("line 0"), reply.body)
            XCTAssertFalse(reply.body.contains(token), reply.body)
        }
        // Without the token the path is not even looked at: a traversal is a 401 too.
        XCTAssertEqual(try http.get(internalURL(base, dag: "..%2F..%2F..")).status, 401)

        // With the token: ids that are not plain names, and a file that leads out of the logs folder, are refused.
        let secretOutside = b.path("outside.txt")
        try "not a log: outside the logs folder".write(toFile: secretOutside, atomically: true, encoding: .utf8)
        let taskFolder = b.home.appendingPathComponent("logs/logs/\(runId)/say")
        try FileManager.default.createSymbolicLink(atPath: taskFolder.appendingPathComponent("attempt-7.log").path, withDestinationPath: secretOutside)
        let authorized = ["Authorization": "Bearer \(token)"]
        for (target, status) in [(internalURL(base, dag: "..%2F..%2F.."), 400), (internalURL(base, dag: "%2E%2E"), 400),
                                 (internalURL(base, task: "..%2F..%2F..%2Foutside.txt"), 400), (internalURL(base, run: "%2E%2E"), 400),
                                 (internalURL(base, task: "a%00b"), 400), (internalURL(base, attempt: "0"), 400),
                                 (internalURL(base, attempt: "..%2F1"), 400), (internalURL(base, attempt: "7"), 400),
                                 (internalURL(base, attempt: "2"), 404), (internalURL(base) + "?length=0", 400)] {
            let reply = try http.get(target, headers: authorized)
            XCTAssertEqual(reply.status, status, "\(target): \(reply.body)")
            XCTAssertFalse(reply.body.contains("window"), reply.body)
        }
        XCTAssertEqual(b.stopDaemon(), 0)

        // A node without a node token serves no logs to others at all.
        b.extraEnvironment["ORCHESTRATOR_NODE_TOKEN"] = nil
        try b.startDaemon()
        let off = try http.get(internalURL(try XCTUnwrap(b.webURL)), headers: authorized)
        XCTAssertEqual(off.status, 403, off.body)
        XCTAssertTrue(off.body.contains("no node token is configured"), off.body)
        XCTAssertEqual(b.stopDaemon(), 0)
    }

    func testWhenTheOwningNodeCannotBeAskedThePageAndAPISaySoInOneLine() throws {
        let (a, b, _) = try makeNodes()
        try b.startDaemon()
        XCTAssertEqual(try b.run(["trigger", "logs", "--date", "2024-01-01"]).status, 0)
        try b.waitFor("node-b to run the task") { try b.runStates(dag: "logs") == ["success"] }

        func expectUnavailable(_ line: String, status: Int, _ why: String) throws {
            let base = try XCTUnwrap(a.webURL)
            let page = try http.get(pageURL(base))
            XCTAssertEqual(page.status, 200, why)
            XCTAssertTrue(page.body.contains("<p class=\"error\">\(line.replacingOccurrences(of: "'", with: "&#39;"))"),
                          "\(why): \(logSection(page.body))")
            let api = try http.get(logURL(base))
            XCTAssertEqual(api.status, status, "\(why): \(api.body)")
            let message = try XCTUnwrap(((api.json as? [String: Any])?["error"] as? [String: Any])?["message"] as? String, api.body)
            XCTAssertTrue(message.hasPrefix(line), "\(why): \(message)")
            XCTAssertFalse(message.contains("\n"))
            for secret in [token, "another-token-of-node-a-0123456789"] {
                XCTAssertFalse(page.body.contains(secret) || api.body.contains(secret), why)
            }
        }

        // node-a has no node token: it cannot ask.
        a.extraEnvironment["ORCHESTRATOR_NODE_TOKEN"] = nil
        try a.startDaemon()
        try expectUnavailable("the log is on node node-b; this node has no node_token", status: 503, "no token here")
        XCTAssertEqual(a.stopDaemon(), 0)

        // node-a's token is not node-b's: refused there.
        a.extraEnvironment["ORCHESTRATOR_NODE_TOKEN"] = "another-token-of-node-a-0123456789"
        try a.startDaemon()
        try expectUnavailable("the log is on node node-b, which did not answer: it refused this node", status: 502, "wrong token")
        XCTAssertEqual(a.stopDaemon(), 0)

        // node-b is gone: it does not answer.
        a.extraEnvironment["ORCHESTRATOR_NODE_TOKEN"] = token
        XCTAssertEqual(b.stopDaemon(), 0)
        try a.startDaemon()
        try expectUnavailable("the log is on node node-b, which did not answer: Couldn't connect to server", status: 502, "node-b stopped")
        XCTAssertEqual(a.stopDaemon(), 0)
    }

    func testABadAdvertisedURLOrNodeTokenIsRefusedInOneLine() throws {
        let h = try Harness()
        for (variable, value, expected) in [
            ("ORCHESTRATOR_ADVERTISE_URL", "ftp://node-b:21", "advertise_url: 'ftp://node-b:21' is not an http:// or https:// URL"),
            ("ORCHESTRATOR_ADVERTISE_URL", "http://app:pw-of-node@node-b:8080", "has user info"),
            ("ORCHESTRATOR_ADVERTISE_URL", "http://0.0.0.0:8080", "wildcard"),
            ("ORCHESTRATOR_NODE_TOKEN", "short", "node_token: '***' is not empty (no logs shared between nodes) or at least 16 characters"),
        ] {
            h.extraEnvironment = [variable: value]
            let result = try h.run(["config", "check"])
            XCTAssertNotEqual(result.status, 0, value)
            XCTAssertTrue(result.stderr.contains("environment \(variable): ") && result.stderr.contains(expected), result.stderr)
            XCTAssertEqual(result.stderr.split(separator: "\n").count, 1, result.stderr)
            XCTAssertFalse(result.stderr.contains("pw-of-node") || result.stderr.contains("'short'"), result.stderr)
        }
        h.extraEnvironment = ["ORCHESTRATOR_ADVERTISE_URL": "http://node-b:8080", "ORCHESTRATOR_WEB_ADDRESS_FOR_TESTS": "off"]
        let off = try h.run(["config", "check"])
        XCTAssertTrue(off.stderr.contains("advertise_url: set, but web_address is off"), off.stderr)
        h.extraEnvironment = ["ORCHESTRATOR_NODE_TOKEN": token, "ORCHESTRATOR_ADVERTISE_URL": "https://node-b.example.org/orchestrator/"]
        let shown = try h.run(["config", "check"])
        XCTAssertEqual(shown.status, 0, shown.stderr)
        XCTAssertFalse(shown.stdout.contains(token), shown.stdout)
        XCTAssertTrue(shown.stdout.contains("node_token    ***"), shown.stdout)
    }
}
