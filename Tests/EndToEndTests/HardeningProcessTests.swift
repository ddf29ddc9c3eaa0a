import Foundation
import XCTest

/// What a task process can reach of the daemon: no descriptor, no secret of its environment, no connection it did
/// not name. And a backfill that follows a daemon that dies does not wait forever.
final class HardeningProcessTests: XCTestCase {
    /// `ls -l /proc/self/fd` output as (fd, target) pairs.
    static func descriptors(_ listing: [String]) -> [(Int, String)] {
        listing.compactMap { line in
            guard let arrow = line.range(of: " -> ") else { return nil }
            let before = line[..<arrow.lowerBound].split(separator: " ")
            guard let fd = before.last.flatMap({ Int($0) }) else { return nil }
            return (fd, String(line[arrow.upperBound...]))
        }
    }

    func testTasksAndWorkersInheritNoDescriptorOfTheDaemon() throws {
        // /proc/<daemon>/fdinfo of a non-dumpable daemon is readable by root only.
        try XCTSkipUnless(getuid() == 0, "reads the daemon's /proc entries, which only root can")
        let h = try Harness()
        try h.writeDag("fds", """
            dag_id: fds
            schedule: null
            start_date: 2024-01-01
            tasks:
              - id: list
                command: ls -l /proc/self/fd > "$WORK/task-fds"; ls -l /proc/$PPID/fd > "$WORK/worker-fds"; echo $PPID > "$WORK/worker-pid"
            """)
        try h.startDaemon()
        XCTAssertNotNil(h.webURL, "the web server is on, with its listening socket and event loops")
        let daemon = try XCTUnwrap(h.daemon).processIdentifier
        XCTAssertEqual(try h.run(["trigger", "fds", "--date", "2024-01-01"]).status, 0)
        try h.waitFor("the task") { try h.runStates(dag: "fds") == ["success"] }

        let task = Self.descriptors(h.lines("task-fds"))
        XCTAssertEqual(task.map(\.0).filter { $0 <= 2 }, [0, 1, 2], h.lines("task-fds").joined(separator: "\n"))
        // Beyond stdio, only the directory `ls` itself opened to list /proc/self/fd.
        let extra = task.filter { $0.0 > 2 }
        XCTAssertLessThanOrEqual(extra.count, 1, "\(task)")
        for (_, target) in extra { XCTAssertTrue(target.hasPrefix("/proc/") && target.hasSuffix("/fd"), "\(task)") }
        for (_, target) in task {
            XCTAssertFalse(target.hasPrefix("socket:") || target.hasPrefix("anon_inode:") || target.hasPrefix("pipe:"), "\(task)")
        }
        // The worker holds its own files (the store, the log) but nothing of the daemon's.
        let worker = Self.descriptors(h.lines("worker-fds"))
        XCTAssertFalse(worker.isEmpty, h.lines("worker-fds").joined(separator: "\n"))
        for (_, target) in worker {
            XCTAssertFalse(target.hasPrefix("socket:") || target.hasPrefix("anon_inode:"), "\(worker)")
        }

        // Belt and braces: every descriptor the daemon holds beyond stdio is close-on-exec.
        let fdinfo = "/proc/\(daemon)/fdinfo"
        let numbers = try FileManager.default.contentsOfDirectory(atPath: fdinfo).compactMap { Int($0) }.filter { $0 > 2 }
        XCTAssertGreaterThan(numbers.count, 3, "the daemon has its store, lock and web socket open")
        for number in numbers {
            guard let info = try? String(contentsOfFile: "\(fdinfo)/\(number)", encoding: .utf8),
                  let line = info.split(separator: "\n").first(where: { $0.hasPrefix("flags:") }),
                  let flags = Int(line.dropFirst("flags:".count).trimmingCharacters(in: .whitespaces), radix: 8) else { continue }
            let target = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(daemon)/fd/\(number)")) ?? "?"
            XCTAssertNotEqual(flags & 0o2000000, 0, "daemon fd \(number) (\(target)) is not close-on-exec")
        }
        XCTAssertEqual(h.stopDaemon(), 0)
    }

    /// A free loopback port, for a daemon that must bind the same port twice.
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw Harness.HarnessError.timeout("no free port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// The task of a daemon killed with -9 runs on, and no longer holds the web socket: the next daemon binds the
    /// same port at once, adopts the task and sees it finish.
    func testDaemonRestartedBesideALiveTaskBindsItsWebPort() throws {
        let h = try Harness()
        let port = try Self.freePort()
        h.extraEnvironment["ORCHESTRATOR_WEB_ADDRESS_FOR_TESTS"] = "127.0.0.1:\(port)"
        try h.writeDag("long", """
            dag_id: long
            schedule: null
            start_date: 2024-01-01
            tasks:
              - { id: sleeper, command: 'echo $$ > "$WORK/started"; sleep 12; echo done >> "$WORK/ledger"' }
            """)
        try h.startDaemon()
        XCTAssertEqual(h.webURL, "http://127.0.0.1:\(port)/")
        XCTAssertEqual(try h.run(["trigger", "long", "--date", "2024-01-01"]).status, 0)
        try h.waitFor("the task to start") { h.lines("started").first.flatMap { Int32($0) } != nil }
        let taskShell = try XCTUnwrap(h.lines("started").first.flatMap { Int32($0) })
        XCTAssertEqual(h.stopDaemon(signal: SIGKILL), 9)

        try h.startDaemon()
        XCTAssertTrue(Harness.isRunning(taskShell) && h.lines("ledger").isEmpty, "the task was still running when the port was bound: \(h.daemonLogText)")
        XCTAssertTrue(h.daemonLogText.components(separatedBy: "url=http://127.0.0.1:\(port)/").count == 3, h.daemonLogText)
        let health = try HTTPClient().get("http://127.0.0.1:\(port)/healthz")
        XCTAssertEqual(health.status, 200)
        try h.waitFor("the adopted task to finish", timeout: 40) { try h.runStates(dag: "long") == ["success"] }
        XCTAssertEqual(h.lines("ledger"), ["done"], "the task ran once, to its end")
        XCTAssertEqual(h.stopDaemon(), 0)
    }

    /// The daemon keeps no secret in its environment (not even in the block /proc/PID/environ shows), is not
    /// dumpable, and a command task gets only the connections it names.
    func testTasksReadNoSecretOfTheDaemonAndOnlyTheConnectionsTheyName() throws {
        // The task reads /proc/<daemon>/environ, which only root can of a non-dumpable process.
        try XCTSkipUnless(getuid() == 0, "reads the daemon's /proc entries, which only root can")
        let h = try Harness()
        let token = "web-token-0123456789abcdef"
        h.extraEnvironment["ORCHESTRATOR_WEB_TOKEN"] = token
        h.extraEnvironment["ORCHESTRATOR_CONN_ALPHA"] = "postgres://alpha:alpha-pw-1@127.0.0.1:1/a"
        h.extraEnvironment["ORCHESTRATOR_CONN_BETA"] = "https://beta-token-2@127.0.0.1:1/v1"
        h.extraEnvironment["ORCHESTRATOR_STORE_URL"] = "postgres://store:store-pw-3@127.0.0.1:1/s"
        try "connections: { gamma: \"postgres://gamma:gamma-pw-4@127.0.0.1:1/g\" }\n"
            .write(toFile: h.path("orchestrator.yaml"), atomically: true, encoding: .utf8)
        h.extraEnvironment["ORCHESTRATOR_CONFIG"] = h.path("orchestrator.yaml")
        try h.writeDag("secrets", """
            dag_id: secrets
            schedule: null
            start_date: 2024-01-01
            tasks:
              - id: plain
                command: |
                  env | grep '^ORCHESTRATOR_' | sort > "$WORK/plain.env"
                  pid=$(cat "$ORCHESTRATOR_HOME/scheduler.pid")
                  tr '\\0' '\\n' < /proc/$pid/environ > "$WORK/daemon.environ"
              - id: named
                connections: [alpha, GAMMA]
                command: env | grep '^ORCHESTRATOR_CONN_' | sort > "$WORK/named.env"
            """)
        try h.startDaemon()
        XCTAssertEqual(try h.run(["trigger", "secrets", "--date", "2024-01-01"]).status, 0)
        try h.waitFor("the tasks") { try h.runStates(dag: "secrets") == ["success"] }
        XCTAssertEqual(h.stopDaemon(), 0)

        let secrets = [token, "alpha-pw-1", "beta-token-2", "store-pw-3", "gamma-pw-4"]
        let environ = h.lines("daemon.environ")
        XCTAssertTrue(environ.contains("ORCHESTRATOR_HOME=\(h.home.path)"), "the task read the daemon's environment: \(environ)")
        for secret in secrets {
            XCTAssertFalse(environ.joined(separator: "\n").contains(secret), "\(secret) in /proc/<daemon>/environ")
        }
        XCTAssertFalse(environ.contains { $0.hasPrefix("ORCHESTRATOR_CONN_") || $0.hasPrefix("ORCHESTRATOR_WEB_TOKEN") }, "\(environ)")
        let plain = h.lines("plain.env")
        XCTAssertTrue(plain.contains { $0.hasPrefix("ORCHESTRATOR_DAG_ID=secrets") }, "\(plain)")
        for secret in secrets { XCTAssertFalse(plain.joined().contains(secret), "\(secret) in a task without connections: \(plain)") }
        XCTAssertEqual(h.lines("named.env"), ["ORCHESTRATOR_CONN_ALPHA=postgres://alpha:alpha-pw-1@127.0.0.1:1/a",
                                              "ORCHESTRATOR_CONN_GAMMA=postgres://gamma:gamma-pw-4@127.0.0.1:1/g"])
        // Root (as here) reads even a non-dumpable process's environ, so the overwrite above is what protects it;
        // the kernel's own answer (PR_GET_DUMPABLE) is in the ready line.
        XCTAssertTrue(h.daemonLogText.contains("msg=\"daemon ready\"") && h.daemonLogText.contains("dumpable=no"), h.daemonLogText)
    }

    /// An unknown name in `connections:` fails that task with a message naming it; a bad name fails validation.
    func testUnknownOrMalformedConnectionNames() throws {
        let h = try Harness()
        try h.writeDag("unknown", """
            dag_id: unknown
            schedule: null
            start_date: 2024-01-01
            tasks:
              - { id: wants, connections: [nowhere], command: 'true' }
            """)
        let started = Date()
        let test = try h.run(["test", "unknown", "--date", "2024-01-01"])
        XCTAssertEqual(test.status, 1)
        XCTAssertTrue(test.stdout.contains("wants  failed")
                      && test.stdout.contains("task 'wants' names connection 'nowhere' in connections:, which is not configured"
                                              + " (set ORCHESTRATOR_CONN_NOWHERE or connections: in the configuration)"), test.stdout)
        XCTAssertLessThan(Date().timeIntervalSince(started), 8, "the run ends at once, not at the next timer")

        try h.writeDag("malformed", """
            dag_id: malformed
            schedule: null
            start_date: 2024-01-01
            tasks:
              - id: bad
                connections: [ok_name, "no-dashes"]
                command: 'true'
            """)
        let validate = try h.run(["dags", "validate"])
        XCTAssertNotEqual(validate.status, 0)
        XCTAssertTrue((validate.stdout + validate.stderr).contains(
            "malformed.yaml:6: tasks[0].connections: 'no-dashes' is not a connection name"), validate.stdout + validate.stderr)
    }

    /// A backfill that follows a daemon killed with -9 notices within seconds and runs the remaining runs itself.
    func testBackfillFollowingADaemonThatDiesFinishesTheRunsItself() throws {
        let h = try Harness()
        try h.writeDag("follow", """
            dag_id: follow
            schedule: "@daily"
            start_date: 2024-01-01
            catchup: false
            max_active_runs: 1
            tasks:
              - { id: step, command: 'sleep 1; echo "{{ ds }}" >> "$WORK/ledger"' }
            """)
        try h.startDaemon()
        let backfill = Process()
        backfill.executableURL = URL(fileURLWithPath: Harness.orchestrator)
        backfill.arguments = ["backfill", "follow", "--start", "2024-01-01", "--end", "2024-01-06"]
        backfill.environment = h.environment
        let err = h.path("backfill.err")
        FileManager.default.createFile(atPath: err, contents: nil)
        backfill.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: err))
        backfill.standardOutput = FileHandle.nullDevice
        try backfill.run()
        defer { if backfill.isRunning { backfill.terminate() } }
        try h.waitFor("the daemon to run the first day") { h.lines("ledger").count >= 1 }
        XCTAssertEqual(h.stopDaemon(signal: SIGKILL), 9)
        let killed = Date()
        try h.waitFor("the backfill to take over", timeout: 10) {
            ((try? String(contentsOfFile: err, encoding: .utf8)) ?? "").contains("is gone; running the remaining runs here")
        }
        XCTAssertLessThan(Date().timeIntervalSince(killed), 5, "noticed within seconds")
        try h.waitFor("the backfill to finish", timeout: 60) { !backfill.isRunning }
        XCTAssertEqual(backfill.terminationStatus, 0, (try? String(contentsOfFile: err, encoding: .utf8)) ?? "")
        // (The daemon also made today's scheduled run: only the backfill's range counts.)
        let inRange = try h.runs(dag: "follow").filter { ($0["logical_date"] as? String)?.hasPrefix("2024-01-0") ?? false }
        XCTAssertEqual(inRange.compactMap { $0["state"] as? String }, Array(repeating: "success", count: 6), "\(inRange)")
        let days = h.lines("ledger").filter { $0.hasPrefix("2024-") }
        XCTAssertEqual(Set(days), Set((1...6).map { "2024-01-0\($0)" }))
        XCTAssertEqual(days.count, 6, "no day ran twice")
    }

    /// A daemon started while a backfill has taken over gets the lock within seconds (the backfill hands it over
    /// and follows again), serves, and every run of the range still runs exactly once.
    func testDaemonRestartedWhileABackfillTookOverGetsTheLock() throws {
        let h = try Harness()
        try h.writeDag("handover", """
            dag_id: handover
            schedule: "@daily"
            start_date: 2024-01-01
            catchup: false
            max_active_runs: 1
            tasks:
              - { id: step, command: 'sleep 1; echo "{{ ds }}" >> "$WORK/ledger"' }
            """)
        try h.startDaemon()
        let backfill = Process()
        backfill.executableURL = URL(fileURLWithPath: Harness.orchestrator)
        backfill.arguments = ["backfill", "handover", "--start", "2024-01-01", "--end", "2024-01-09"]
        backfill.environment = h.environment
        let err = h.path("backfill.err")
        _ = FileManager.default.createFile(atPath: err, contents: nil)
        backfill.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: err))
        backfill.standardOutput = FileHandle.nullDevice
        try backfill.run()
        defer { if backfill.isRunning { backfill.terminate() } }
        let errText = { (try? String(contentsOfFile: err, encoding: .utf8)) ?? "" }
        try h.waitFor("the daemon to run the first day") { h.lines("ledger").count >= 1 }
        XCTAssertEqual(h.stopDaemon(signal: SIGKILL), 9)
        try h.waitFor("the backfill to take over", timeout: 10) { errText().contains("is gone; running the remaining runs here") }

        let restarted = Date()
        try h.startDaemon()
        XCTAssertLessThan(Date().timeIntervalSince(restarted), 12, "the lock was handed over within a pass: \(h.daemonLogText)")
        XCTAssertTrue(try XCTUnwrap(h.daemon).isRunning, h.daemonLogText)
        XCTAssertTrue(backfill.isRunning, "the backfill still had runs to do when the daemon took the lock: \(errText())")
        XCTAssertTrue(errText().contains("a daemon (pid \(try XCTUnwrap(h.daemon).processIdentifier)) started; handing the runs over to it"), errText())
        let base = try XCTUnwrap(h.webURL)
        XCTAssertEqual(try HTTPClient().get(base + "healthz").status, 200)

        try h.waitFor("the backfill to finish", timeout: 90) { !backfill.isRunning }
        XCTAssertEqual(backfill.terminationStatus, 0, errText())
        let inRange = try h.runs(dag: "handover").filter { ($0["logical_date"] as? String)?.hasPrefix("2024-01-0") ?? false }
        XCTAssertEqual(inRange.compactMap { $0["state"] as? String }, Array(repeating: "success", count: 9), "\(inRange)")
        let days = h.lines("ledger").filter { $0.hasPrefix("2024-") }
        XCTAssertEqual(days.sorted(), (1...9).map { "2024-01-0\($0)" }, "every day ran exactly once")
        XCTAssertEqual(h.stopDaemon(), 0)
    }

    /// A task that prints a configured connection's bare password (short, no URL around it) gets it masked in the
    /// served log; a connection added by a reload counts from then on.
    func testServedLogsMaskTheBarePasswordsOfConfiguredConnections() throws {
        let h = try Harness()
        let config = h.path("orchestrator.yaml")
        try "connections: { alpha: \"postgres://a:al-pw@127.0.0.1:1/a\" }\n".write(toFile: config, atomically: true, encoding: .utf8)
        h.extraEnvironment["ORCHESTRATOR_CONFIG"] = config
        try h.writeDag("bare", """
            dag_id: bare
            schedule: null
            start_date: 2024-01-01
            tasks:
              - { id: say, command: 'echo "alpha al-pw beta be-pw9"' }
            """)
        try h.startDaemon()
        XCTAssertEqual(try h.run(["trigger", "bare", "--date", "2024-01-01"]).status, 0)
        try h.waitFor("the task") { try h.runStates(dag: "bare") == ["success"] }
        let base = try XCTUnwrap(h.webURL)
        let logURL = base + "api/v1/dags/bare/runs/\(HTTPClient.encoded("manual__2024-01-01T00:00:00Z"))/tasks/say/logs/1"
        func content() throws -> String {
            let reply = try HTTPClient().get(logURL)
            XCTAssertEqual(reply.status, 200)
            return try XCTUnwrap((try JSONSerialization.jsonObject(with: Data(reply.body.utf8)) as? [String: Any])?["content"] as? String)
        }
        let before = try content()
        XCTAssertTrue(before.contains("alpha ***** beta be-pw9"), before)

        try "connections: { alpha: \"postgres://a:al-pw@127.0.0.1:1/a\", beta: \"postgres://b:be-pw9@127.0.0.1:1/b\" }\n"
            .write(toFile: config, atomically: true, encoding: .utf8)
        kill(try XCTUnwrap(h.daemon).processIdentifier, SIGHUP)
        try h.waitFor("the reload") { h.daemonLogText.contains("configuration reloaded") }
        let after = try content()
        XCTAssertTrue(after.contains("alpha ***** beta ******"), after)
        XCTAssertEqual(h.stopDaemon(), 0)
    }

    /// Every password form is masked in `config check` and in a log served by the web API.
    func testPasswordFormsAreMaskedInConfigCheckAndServedLogs() throws {
        let h = try Harness()
        try """
            connections:
              slashed: "postgres://app:p/a@ss@127.0.0.1:5432/db"
              queried: "postgres://127.0.0.1/db?user=app&password=q-secret-1&sslpassword=q-secret-2"
            """.write(toFile: h.path("good.yaml"), atomically: true, encoding: .utf8)
        let good = try h.run(["config", "check", "--config", h.path("good.yaml")])
        XCTAssertEqual(good.status, 0, good.stderr)
        XCTAssertTrue(good.stdout.contains("connection    slashed: postgres://app:***@127.0.0.1:5432/db"), good.stdout)
        XCTAssertTrue(good.stdout.contains("connection    queried: postgres://127.0.0.1/db?user=app&password=***&sslpassword=***"), good.stdout)
        for secret in ["p/a@ss", "a@ss", "q-secret-1", "q-secret-2"] { XCTAssertFalse(good.stdout.contains(secret), good.stdout) }

        try "connections: { keyword: \"host=127.0.0.1 password='kv secret' sslpassword=kv-2\" }\n"
            .write(toFile: h.path("keyword.yaml"), atomically: true, encoding: .utf8)
        let keyword = try h.run(["config", "check", "--config", h.path("keyword.yaml")])
        XCTAssertEqual(keyword.status, 1, "a keyword/value string is not a connection URL")
        XCTAssertTrue(keyword.stderr.contains("connection keyword: 'host=127.0.0.1 password='***' sslpassword=***' is not a URL"), keyword.stderr)
        XCTAssertFalse(keyword.stderr.contains("kv secret") || keyword.stderr.contains("kv-2"), keyword.stderr)

        try h.writeDag("masked", """
            dag_id: masked
            schedule: null
            start_date: 2024-01-01
            tasks:
              - id: talk
                command: |
                  echo 'url postgres://u:p/a@ss@db.internal/x'
                  echo 'query https://api.example/v1?user=u&password=w-secret-3'
                  echo 'libpq host=db password=secret-4 sslpassword=secret-5 dbname=x'
            """)
        // A broken file's error quotes its text: the import error the pages and the API show is masked too.
        try h.writeDag("broken", """
            dag_id: broken
            schedule: null
            start_date: 2024-01-01
            tasks:
              - { id: t, command: 'true', retry_delay: "postgres://u:dag-secret-6@db/x" }
            """)
        try h.startDaemon()
        XCTAssertEqual(try h.run(["trigger", "masked", "--date", "2024-01-01"]).status, 0)
        try h.waitFor("the task") { try h.runStates(dag: "masked") == ["success"] }
        let base = try XCTUnwrap(h.webURL)
        let run = HTTPClient.encoded("manual__2024-01-01T00:00:00Z")
        let reply = try HTTPClient().get(base + "api/v1/dags/masked/runs/\(run)/tasks/talk/logs/1")
        XCTAssertEqual(reply.status, 200)
        let content = try XCTUnwrap((try JSONSerialization.jsonObject(with: Data(reply.body.utf8)) as? [String: Any])?["content"] as? String)
        XCTAssertTrue(content.contains("url postgres://u:******@db.internal/x"), content)
        XCTAssertTrue(content.contains("query https://api.example/v1?user=u&password=**********"), content)
        XCTAssertTrue(content.contains("libpq host=db password=******** sslpassword=******** dbname=x"), content)
        let dags = try HTTPClient().get(base + "api/v1/dags").body
        XCTAssertTrue(dags.contains("broken.yaml") && dags.contains("postgres://u:***@db/x"), dags)
        XCTAssertFalse(dags.contains("dag-secret-6") || h.daemonLogText.contains("dag-secret-6"), dags)
        XCTAssertEqual(h.stopDaemon(), 0)
    }
}
