import Foundation
import XCTest

/// The status server against hostile clients and a hostile host: other sites' Host names, connections that send
/// half a request or nothing, more connections than the cap, and a web port someone else holds.
final class WebHardeningTests: XCTestCase {
    let http = HTTPClient()

    func port(_ h: Harness) throws -> Int {
        let base = try XCTUnwrap(h.webURL, h.daemonLogText)
        return try XCTUnwrap(Int(base.split(separator: ":").last?.trimmingCharacters(in: CharacterSet(charactersIn: "/")) ?? ""), base)
    }

    func testHostIsMatchedExactly() throws {
        let h = try Harness()
        try h.writeDag("a", "dag_id: a\nschedule: null\nstart_date: 2024-01-01\ntasks:\n  - { id: t, command: \"true\" }\n")
        try h.startDaemon()
        let port = try port(h)
        for host in ["127.0.0.1:\(port)", "127.0.0.1", "localhost", "localhost:\(port)", "LOCALHOST", "[::1]:\(port)"] {
            XCTAssertEqual(RawConnection.status(port: port, headerLines: ["Host: \(host)"]), 200, "Host: \(host)")
        }
        for host in ["127.0.0.1.evil.com", "127.evil.com", "127.0.0.1.nip.io", "localhost.evil", "127.0.0.1.evil.com:\(port)",
                     "localhost:80x", "127.0.0.1:", "evil.com:\(port)", ""] {
            XCTAssertEqual(RawConnection.status(port: port, headerLines: ["Host: \(host)"]), 421, "Host: '\(host)'")
        }
        XCTAssertEqual(RawConnection.status(port: port, headerLines: []), 421, "a request without Host")
        XCTAssertEqual(RawConnection.status(port: port, headerLines: ["Host: 127.0.0.1.nip.io"], path: "/api/v1/dags"), 421)
    }

    func testAWildcardBindAnswersOnlyToLoopbackAndTheAllowedNames() throws {
        let h = try Harness()
        try h.writeDag("a", "dag_id: a\nschedule: null\nstart_date: 2024-01-01\ntasks:\n  - { id: t, command: \"true\" }\n")
        h.extraEnvironment = ["ORCHESTRATOR_WEB_ADDRESS_FOR_TESTS": "0.0.0.0:0",
                              "ORCHESTRATOR_WEB_ALLOWED_HOSTS": "status.example.org, 192.0.2.7"]
        try h.startDaemon()
        let port = try port(h)
        for host in ["127.0.0.1:\(port)", "localhost", "status.example.org:\(port)", "STATUS.EXAMPLE.ORG", "192.0.2.7:\(port)"] {
            XCTAssertEqual(RawConnection.status(port: port, headerLines: ["Host: \(host)"]), 200, "Host: \(host)")
        }
        // A rebound name, the wildcard itself and a name only starting like an allowed one are refused.
        for host in ["evil.com", "evil.com:\(port)", "0.0.0.0:\(port)", "status.example.org.evil.com", "example.org", "192.0.2.8"] {
            XCTAssertEqual(RawConnection.status(port: port, headerLines: ["Host: \(host)"]), 421, "Host: '\(host)'")
        }
        XCTAssertEqual(RawConnection.status(port: port, headerLines: []), 421, "a request without Host")
    }

    func testABadAllowedHostIsRefusedAtStart() throws {
        let h = try Harness()
        for value in ["status.example.org:8080", "a b", "*.example.org"] {
            h.extraEnvironment = ["ORCHESTRATOR_WEB_ALLOWED_HOSTS": value]
            let result = try h.run(["config", "check"])
            XCTAssertNotEqual(result.status, 0, value)
            XCTAssertTrue(result.stderr.contains("environment ORCHESTRATOR_WEB_ALLOWED_HOSTS: web_allowed_hosts: '\(value)' is not"),
                          result.stderr)
        }
    }

    func testSlowAndIdleConnectionsAreClosedAndTheCapHolds() throws {
        let h = try Harness()
        try h.writeDag("a", "dag_id: a\nschedule: null\nstart_date: 2024-01-01\ntasks:\n  - { id: t, command: \"true\" }\n")
        h.extraEnvironment = ["ORCHESTRATOR_WEB_HEADER_TIMEOUT": "1s", "ORCHESTRATOR_WEB_IDLE_TIMEOUT": "3s",
                              "ORCHESTRATOR_WEB_MAX_CONNECTIONS": "8"]
        try h.startDaemon()
        let port = try port(h)

        // Twenty clients send half a request line: eight hold the server's connections, twelve wait in the backlog.
        let opened = Date()
        let slow = try (1...20).map { _ in try XCTUnwrap(RawConnection(port: port), "connect") }
        for connection in slow { connection.send("GET /healthz HT") }
        // A whole request behind them waits for a free connection...
        let waiting = try XCTUnwrap(RawConnection(port: port))
        waiting.send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        XCTAssertNil(waiting.readStatus(within: 0.5), "over the cap of 8, a ninth connection is not served yet")
        // ...which the header timeout frees: every half request is dropped after a second (not at once), batch by batch.
        for (index, connection) in slow.enumerated() {
            guard case .closed(let received) = connection.readUntilClosed(within: 15) else {
                return XCTFail("half request \(index + 1) still open after 15 s")
            }
            XCTAssertEqual(received, "", "nothing is answered to half a request")
        }
        XCTAssertGreaterThan(Date().timeIntervalSince(opened), 1.9, "20 half requests over 8 connections take at least 2 header timeouts")
        XCTAssertEqual(waiting.readStatus(within: 10), 200, "the waiting request is served once the slow ones are gone")

        // A connection that sends nothing stays until the idle timeout (3 s), longer than the header timeout.
        let silentSince = Date()
        let silent = try XCTUnwrap(RawConnection(port: port))
        guard case .closed = silent.readUntilClosed(within: 15) else { return XCTFail("a silent connection was never closed") }
        XCTAssertGreaterThan(Date().timeIntervalSince(silentSince), 2.5, "closed by the idle timeout, not the header one")
        // A keep-alive connection is idle after its answer, and closed the same way.
        let keepAlive = try XCTUnwrap(RawConnection(port: port))
        let askedAt = Date()
        keepAlive.send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        XCTAssertEqual(keepAlive.readStatus(within: 10), 200)
        guard case .closed = keepAlive.readUntilClosed(within: 15) else { return XCTFail("an idle keep-alive connection was never closed") }
        XCTAssertGreaterThan(Date().timeIntervalSince(askedAt), 2.5, "a request whose head arrived is not cut by the header timeout")

        XCTAssertEqual(try http.get("http://127.0.0.1:\(port)/healthz").status, 200, "the page still answers afterwards")
        XCTAssertEqual(try h.run(["trigger", "a", "--date", "2024-01-01"]).status, 0)
        try h.waitFor("the run to succeed") { try h.runStates(dag: "a") == ["success"] }
    }

    func testABodySentAByteAtATimeIsCutAtTheTimeout() throws {
        let h = try Harness()
        try h.writeDag("a", "dag_id: a\nschedule: null\nstart_date: 2024-01-01\ntasks:\n  - { id: t, command: \"true\" }\n")
        let token = "a-token-of-enough-length"
        h.extraEnvironment = ["ORCHESTRATOR_WEB_HEADER_TIMEOUT": "1s", "ORCHESTRATOR_WEB_IDLE_TIMEOUT": "3s", "ORCHESTRATOR_WEB_TOKEN": token]
        try h.startDaemon()
        let port = try port(h)
        let slow = try XCTUnwrap(RawConnection(port: port))
        slow.send("POST /api/v1/dags/a/runs HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(token)\r\n" +
                  "Content-Type: application/json\r\nContent-Length: 200\r\n\r\n{")
        let sentHead = Date()
        // A byte every 0.3 s keeps the idle timeout (3 s) from ever firing; the body's own timeout (1 s) must.
        var outcome = RawConnection.Outcome.timedOut("")
        for _ in 0..<25 {
            slow.send(" ")
            outcome = slow.readUntilClosed(within: 0.3)
            if case .closed = outcome { break }
        }
        guard case .closed(let received) = outcome else { return XCTFail("a body trickled for 7.5 s was never cut") }
        let after = Date().timeIntervalSince(sentHead)
        XCTAssertGreaterThan(after, 0.8, "cut by the timeout, not at once")
        XCTAssertLessThan(after, 2.9, "cut by the body's timeout (1 s), before the idle one (3 s) could have")
        XCTAssertFalse(received.contains("201"), received)
        XCTAssertEqual(try h.runStates(dag: "a"), [], "the half-sent trigger created no run")
        // A whole body within the timeout is served as before.
        let whole = try XCTUnwrap(RawConnection(port: port))
        let body = "{}"
        whole.send("POST /api/v1/dags/a/runs HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(token)\r\n" +
                   "Content-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)")
        XCTAssertEqual(whole.readStatus(within: 10), 201)
    }

    func testLimitsOutOfBoundsAreRefusedAtStart() throws {
        let h = try Harness()
        for (variable, value) in [("ORCHESTRATOR_WEB_HEADER_TIMEOUT", "0s"), ("ORCHESTRATOR_WEB_IDLE_TIMEOUT", "2h"),
                                  ("ORCHESTRATOR_WEB_MAX_CONNECTIONS", "0"), ("ORCHESTRATOR_WEB_MAX_CONNECTIONS", "many")] {
            h.extraEnvironment = [variable: value]
            let result = try h.run(["config", "check"])
            XCTAssertNotEqual(result.status, 0, "\(variable)=\(value)")
            let key = variable.dropFirst("ORCHESTRATOR_".count).lowercased()
            XCTAssertTrue(result.stderr.contains("environment \(variable): \(key): '\(value)' is not"), result.stderr)
        }
    }

    /// A port free right now (bound to 0 and closed again).
    static func freePort() throws -> Int {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, length) == 0 && getsockname(descriptor, $0, &length) == 0 }
        }
        guard bound else { throw Harness.HarnessError.timeout("a free port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    func testADaemonRestartedBesideItsPredecessorsTasksAdoptsThemAndServesAtOnce() throws {
        let h = try Harness()
        let port = try Self.freePort()
        h.extraEnvironment = ["ORCHESTRATOR_WEB_ADDRESS_FOR_TESTS": "127.0.0.1:\(port)"]
        try h.writeDag("long", """
            dag_id: long
            schedule: null
            start_date: 2024-01-01
            tasks:
              - { id: t, command: "ls -l /proc/self/fd > \\"$WORK/fds\\"; sleep 8" }
            """)
        try h.startDaemon()
        XCTAssertEqual(try h.run(["trigger", "long", "--date", "2024-01-01"]).status, 0)
        try h.waitFor("the task to start") { !h.lines("fds").isEmpty }
        XCTAssertFalse(h.lines("fds").contains(where: { $0.contains("socket:") }), "the task holds no socket of the daemon")
        h.stopDaemon(signal: SIGKILL)
        try h.startDaemon()
        XCTAssertTrue(h.daemonLogText.contains("adopted a running worker"), h.daemonLogText)
        XCTAssertEqual(try http.get("http://127.0.0.1:\(port)/healthz").status, 200, "serves at once, beside the adopted task")
        XCTAssertEqual(try h.runStates(dag: "long"), ["running"])
    }

    static let squatter = """
        import socket, sys, time
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        with open(sys.argv[1], "w") as f: f.write(str(s.getsockname()[1]))
        time.sleep(600)
        """

    func testADaemonWhoseWebPortIsBusyKeepsSchedulingAndServesOnceItIsFree() throws {
        let h = try Harness()
        try h.writeDag("a", "dag_id: a\nschedule: null\nstart_date: 2024-01-01\ntasks:\n  - { id: t, command: \"true\" }\n")
        let (squatter, port) = try h.startPythonServer(Self.squatter, name: "squatter", log: "squatter.log")
        defer { if squatter.isRunning { squatter.terminate() } }
        h.extraEnvironment = ["ORCHESTRATOR_WEB_ADDRESS_FOR_TESTS": "127.0.0.1:\(port)"]
        try h.startDaemon()
        XCTAssertTrue(h.daemonLogText.contains("web status cannot listen; retrying"), h.daemonLogText)
        XCTAssertTrue(h.daemonLogText.contains("Address already in use"), h.daemonLogText)
        XCTAssertNil(h.webURL, "not listening while the port is held")

        XCTAssertEqual(try h.run(["trigger", "a", "--date", "2024-01-01"]).status, 0)
        try h.waitFor("the run to succeed without the web side") { try h.runStates(dag: "a") == ["success"] }
        try h.waitFor("a second failed bind") { h.daemonLogText.components(separatedBy: "web status cannot listen").count > 2 }

        squatter.terminate()
        squatter.waitUntilExit()
        let freed = Date()
        try h.waitFor("the page to answer", timeout: 40) { h.webURL != nil }
        XCTAssertLessThan(Date().timeIntervalSince(freed), 31, "within the 30 s backoff cap")
        XCTAssertEqual(try h.webURL, "http://127.0.0.1:\(port)/")
        let failures = h.daemonLogText.components(separatedBy: "web status cannot listen").count - 1
        let health = try http.get("http://127.0.0.1:\(port)/healthz")
        XCTAssertEqual(health.status, 200)
        XCTAssertTrue(health.body.contains("web: bound after \(failures) failed binds (last: "), health.body)
        let metrics = try http.get("http://127.0.0.1:\(port)/metrics")
        XCTAssertTrue(metrics.body.contains("\norchestrator_web_bind_failures_total \(failures)\n"), metrics.body)
        XCTAssertEqual(h.stopDaemon(), 0)
    }
}
