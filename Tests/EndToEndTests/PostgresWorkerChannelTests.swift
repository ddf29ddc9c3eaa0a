import Foundation
import XCTest

/// On PostgreSQL a worker writes its attempt through its daemon, over the socket it was handed at spawn: no store
/// session of its own, and the task it starts cannot reach that socket. A daemon killed with -9 while a task runs
/// loses nothing: the worker starts its helper, which opens the store, and records the outcome with no daemon up.
final class PostgresWorkerChannelTests: PostgresTestCase {
    /// The application names of the sessions on the test's database, one per session, sorted.
    func sessions() throws -> [String] {
        try psql(serverURL, "SELECT application_name FROM pg_stat_activity WHERE datname = '\(database)' ORDER BY 1")
            .split(separator: "\n").map(String.init)
    }

    func instance(_ column: String) throws -> String {
        try psql(databaseURL, "SELECT coalesce(\(column)::text, '') FROM task_instances WHERE task_id = 'work'")
    }

    /// A daemon on the test's database running one task, `work`, whose shell `script` (lines joined by spaces) writes
    /// its worker's pid to $WORK/worker-pid: returns once it has.
    func startTask(_ script: String) throws -> Harness {
        let h = try Harness()
        h.extraEnvironment["ORCHESTRATOR_STORE"] = databaseURL
        let command = script.split(separator: "\n").joined(separator: " ")
        let quoted = "'" + command.replacingOccurrences(of: "'", with: "''") + "'"
        try h.writeDag("channel", "dag_id: channel\nschedule: null\nstart_date: 2024-01-01\ntasks:\n  - id: work\n    command: \(quoted)\n")
        try h.startDaemon()
        XCTAssertEqual(try h.run(["trigger", "channel", "--date", "2024-01-01"]).status, 0)
        try h.waitFor("the task to start") { !h.lines("worker-pid").isEmpty }
        return h
    }

    func testAWorkerWritesThroughItsDaemonAndItsTaskCannotReachTheChannel() throws {
        let h = try startTask("""
            ls -l /proc/self/fd > "$WORK/task-fds";
            tr '\\0' '\\n' < /proc/$PPID/cmdline | head -1 > "$WORK/worker-program";
            if ls -l /proc/$PPID/fd > "$WORK/worker-fds" 2>/dev/null; then :; fi;
            if (echo hello > /proc/$PPID/fd/3) 2>/dev/null; then echo reached; else echo refused; fi > "$WORK/reach";
            echo $PPID > "$WORK/worker-pid";
            while [ ! -e "$WORK/go" ]; do sleep 0.05; done
            """)

        // The daemon's sessions only: none of a worker (before this change each worker had one, and a backend forked for it).
        let running = try sessions()
        XCTAssertTrue(running.contains("orchestrator attempt channels"), "\(running)")
        XCTAssertFalse(running.contains { $0.hasPrefix("orchestrator worker") }, "\(running)")
        XCTAssertEqual(h.lines("worker-program").first.map { URL(fileURLWithPath: $0).lastPathComponent }, "orchestrator-worker",
                       "the static worker, which links no libpq")
        XCTAssertEqual(try instance("state"), "running", "claimed through the daemon")
        XCTAssertEqual(try instance("pid"), h.lines("worker-pid").first)

        // The task holds nothing beyond stdio (and the directory ls opened), no socket; the worker's channel is not
        // reachable through /proc either (a socket cannot be opened by path).
        let task = HardeningProcessTests.descriptors(h.lines("task-fds"))
        XCTAssertEqual(task.map(\.0).filter { $0 <= 2 }, [0, 1, 2], h.lines("task-fds").joined(separator: "\n"))
        XCTAssertFalse(task.contains { $0.1.hasPrefix("socket:") }, "\(task)")
        XCTAssertLessThanOrEqual(task.filter { $0.0 > 2 }.count, 1, "\(task)")
        XCTAssertEqual(h.lines("reach"), ["refused"])
        if getuid() == 0 {
            // Root reads the worker's descriptors: fd 3 is the channel (so the checks above are not vacuous).
            let worker = HardeningProcessTests.descriptors(h.lines("worker-fds"))
            XCTAssertTrue(worker.contains { $0.0 == 3 && $0.1.hasPrefix("socket:") }, "\(worker)")
        }

        FileManager.default.createFile(atPath: h.path("go"), contents: nil)
        try h.waitFor("the run") { try h.runStates(dag: "channel") == ["success"] }
        XCTAssertEqual(try psql(databaseURL, "SELECT state || ' ' || pid FROM task_attempts WHERE task_id = 'work'"),
                       "success \(h.lines("worker-pid").first ?? "?")")
        XCTAssertEqual(h.stopDaemon(), 0)
    }

    func testAWorkerWhoseDaemonIsKilledHeartbeatsAndRecordsItsOutcomeThroughItsHelper() throws {
        let h = try startTask("""
            echo $PPID > "$WORK/worker-pid"; while [ ! -e "$WORK/go" ]; do sleep 0.05; done; echo done >> "$WORK/ledger"
            """)
        let worker = try XCTUnwrap(h.lines("worker-pid").first.flatMap { Int32($0) })
        XCTAssertEqual(try instance("state"), "running")
        XCTAssertEqual(h.stopDaemon(signal: SIGKILL), 9)
        let killedAt = try XCTUnwrap(Double(try psql(databaseURL, "SELECT extract(epoch from clock_timestamp())")))
        XCTAssertTrue(Harness.isRunning(worker), "the worker outlives its daemon")

        // The next heartbeat (every 5 s) finds the daemon gone: the helper opens the store and stamps it, by the store's clock.
        try h.waitFor("a heartbeat after the kill", timeout: 20) { (Double(try self.instance("heartbeat_at")) ?? 0) > killedAt }
        let afterKill = try sessions()
        XCTAssertTrue(afterKill.contains("orchestrator worker (fallback)"), "\(afterKill)")
        XCTAssertTrue(h.daemonLogText.contains("the daemon that started this worker is gone"), h.daemonLogText)

        // The task ends with no daemon up: its worker records the outcome itself, through the helper.
        FileManager.default.createFile(atPath: h.path("go"), contents: nil)
        try h.waitFor("the outcome, with no daemon", timeout: 20) { try self.instance("state") == "success" }
        XCTAssertEqual(try psql(databaseURL, "SELECT state || ' ' || pid FROM task_attempts WHERE task_id = 'work'"), "success \(worker)")
        try h.waitFor("the worker and its helper to exit") {
            let open = try self.sessions()
            return !Harness.isRunning(worker) && !open.contains { $0.hasPrefix("orchestrator worker") }
        }

        try h.startDaemon()
        try h.waitFor("the run") { try h.runStates(dag: "channel") == ["success"] }
        XCTAssertEqual(h.lines("ledger"), ["done"], "the task ran once")
        XCTAssertEqual(try psql(databaseURL, "SELECT count(*) FROM task_attempts"), "1")
        XCTAssertEqual(h.stopDaemon(), 0)
    }
}
