import Foundation
import XCTest

/// Several nodes on one PostgreSQL store (decision 0012): two daemons with their own homes, node names and web ports
/// schedule and run a backfill started from a third home that runs no daemon; one node's machine dies (its daemon,
/// workers and tasks killed with -9 at once) in the middle. Asserted from the tasks' own stamps and from the store.
final class MultiNodeTests: PostgresTestCase {
    static let tasks = ["a", "b"]
    static let days = (1...6).map { "2024-01-0\($0)" }

    /// Every task writes a start and an end stamp around a sleep; the end stamp is its side effect, written once per
    /// success. A stamp: `start|end DS TASK TRY NODE SECONDS`.
    func dag(stamps: String) -> String {
        var yaml = """
            dag_id: multi
            schedule: "@daily"
            start_date: 2024-01-01
            end_date: 2024-01-06
            catchup: false
            max_active_runs: 6
            tasks:

            """
        for task in Self.tasks {
            let stamp = { (what: String) in
                "echo \"\(what) {{ ds }} \(task) $ORCHESTRATOR_TRY_NUMBER $ORCHESTRATOR_NODE_NAME $(date +%s.%N)\" >> \(stamps)"
            }
            yaml += """
                  - id: \(task)
                    pool: two
                    retries: 1
                    retry_delay: 0s
                    command: '\(stamp("start")); sleep 3; \(stamp("end"))'

                """
        }
        return yaml
    }

    struct Stamp {
        var started: Bool
        var day: String
        var task: String
        var tryNumber: Int
        var node: String
        var time: Double
        var attempt: String { "\(day)/\(task)/\(tryNumber)" }
    }

    func stamps(_ path: String) -> [Stamp] {
        ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n").compactMap { line in
            let fields = line.split(separator: " ").map(String.init)
            guard fields.count == 6, let tryNumber = Int(fields[3]), let time = Double(fields[5]) else { return nil }
            return Stamp(started: fields[0] == "start", day: fields[1], task: fields[2], tryNumber: tryNumber, node: fields[4], time: time)
        }
    }

    func testTwoNodesShareABackfillAndOneMachineDyingLosesNothingAndRunsNothingTwice() throws {
        let a = try Harness(), b = try Harness(), client = try Harness()
        let stampsPath = client.path("stamps")
        for (h, name) in [(a, "node-a"), (b, "node-b"), (client, "client-c")] {
            try h.writeDag("multi", dag(stamps: stampsPath))
            h.extraEnvironment["ORCHESTRATOR_STORE"] = databaseURL
            h.extraEnvironment["ORCHESTRATOR_NODE_NAME"] = name
            h.extraEnvironment["ORCHESTRATOR_NODE_TIMEOUT"] = "10s"
        }
        XCTAssertEqual(try client.run(["pools", "set", "two", "2"]).status, 0)
        try a.startDaemon()
        try b.startDaemon()
        XCTAssertNotEqual(a.webURL, b.webURL, "each node serves on a port of its own")

        // A second daemon under a taken name (another home, so only the store can tell) is refused in one line.
        let twin = try Harness()
        try twin.writeDag("multi", dag(stamps: stampsPath))
        twin.extraEnvironment = b.extraEnvironment
        let refused = try twin.run(["daemon"], timeout: 30)
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertEqual(refused.stderr.split(separator: "\n").count, 1, refused.stderr)
        XCTAssertTrue(refused.stderr.contains("node 'node-b' already has a live scheduler on postgres://"), refused.stderr)
        XCTAssertFalse(refused.stderr.contains("Sup3rSecretPw"), refused.stderr)
        XCTAssertEqual(try psql(databaseURL, "SELECT pid FROM nodes WHERE name = 'node-b'"), "\(try XCTUnwrap(b.daemon).processIdentifier)",
                       "the refused twin left node-b's row alone")

        // The backfill, from a home with no daemon, hands its runs to the live nodes and follows them.
        let backfill = Process()
        backfill.executableURL = URL(fileURLWithPath: Harness.orchestrator)
        backfill.arguments = ["backfill", "multi", "--start", "2024-01-01", "--end", "2024-01-06"]
        backfill.environment = client.environment
        let err = client.path("backfill.err")
        _ = FileManager.default.createFile(atPath: err, contents: nil)
        backfill.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: err))
        backfill.standardOutput = FileHandle.nullDevice
        try backfill.run()
        defer { if backfill.isRunning { backfill.terminate() } }
        let errText = { (try? String(contentsOfFile: err, encoding: .utf8)) ?? "" }

        // node-a's machine dies while it runs tasks: at a moment when it has finished one and its open ones are at
        // most 1.5 s into their 3 s (so none is between its end stamp and its worker's record of it).
        try a.waitFor("node-a to be in the middle of a task", timeout: 40) {
            let now = Date().timeIntervalSince1970
            let all = stamps(stampsPath).filter { $0.node == "node-a" }
            let ended = Set(all.filter { !$0.started }.map(\.attempt))
            let open = all.filter { $0.started && !ended.contains($0.attempt) }
            return !ended.isEmpty && !open.isEmpty && open.allSatisfy { now - $0.time < 1.5 }
        }
        let killed = killMachine(of: try XCTUnwrap(a.daemon).processIdentifier)
        let killedAt = Date().timeIntervalSince1970
        XCTAssertGreaterThan(killed, 1, "the daemon and at least one worker")
        a.stopDaemon(signal: SIGKILL)

        try client.waitFor("the backfill to finish", timeout: 90) { !backfill.isRunning }
        XCTAssertEqual(backfill.terminationStatus, 0, errText())
        XCTAssertTrue(errText().contains("handing the runs to the nodes node-a, node-b"), errText())
        XCTAssertFalse(errText().contains("running the remaining runs here"), "node-b was alive throughout: \(errText())")

        // From the stamps.
        let all = stamps(stampsPath)
        let ends = all.filter { !$0.started }
        let expectedTasks = Set(Self.days.flatMap { day in Self.tasks.map { "\(day)/\($0)" } })
        XCTAssertEqual(Set(ends.map { "\($0.day)/\($0.task)" }), expectedTasks)
        XCTAssertEqual(ends.count, expectedTasks.count, "no task's side effect happened twice")
        XCTAssertEqual(Set(all.map(\.node)), ["node-a", "node-b"], "both nodes ran tasks, the backfill none")
        XCTAssertTrue(ends.contains { $0.node == "node-a" } && ends.contains { $0.node == "node-b" })
        // Each attempt's interval: start to end, or to the kill for one that died with node-a.
        let endOf = Dictionary(ends.map { ($0.attempt, $0.time) }, uniquingKeysWith: max)
        let intervals = all.filter(\.started).map { start in
            (start: start, end: endOf[start.attempt] ?? killedAt)
        }
        let lost = intervals.filter { endOf[$0.start.attempt] == nil }
        XCTAssertFalse(lost.isEmpty, "node-a died in the middle of a task")
        XCTAssertTrue(lost.allSatisfy { $0.start.node == "node-a" }, "\(lost.map(\.start.attempt))")
        for (task, attempts) in Dictionary(grouping: intervals, by: { "\($0.start.day)/\($0.start.task)" }) {
            let ordered = attempts.sorted { $0.start.time < $1.start.time }
            XCTAssertLessThanOrEqual(ordered.count, 2, task)
            for (earlier, later) in zip(ordered, ordered.dropFirst()) {
                XCTAssertLessThanOrEqual(earlier.end, later.start.time, "two attempts of \(task) overlapped")
                XCTAssertLessThan(earlier.start.tryNumber, later.start.tryNumber, task)
            }
        }
        // The pool's occupancy over time, from the stamps: an end before a start at the same instant.
        let events = intervals.flatMap { [($0.start.time, 1), ($0.end, -1)] }.sorted { ($0.0, $0.1) < ($1.0, $1.1) }
        var held = 0, most = 0
        for (_, change) in events {
            held += change
            most = max(most, held)
        }
        XCTAssertEqual(most, 2, "the 2-slot pool was full at times and never held more")

        // From the store: every task succeeded once, after at most one attempt lost with node-a.
        XCTAssertEqual(try psql(databaseURL, "SELECT string_agg(DISTINCT state, ',') FROM dag_runs"), "success")
        XCTAssertEqual(try psql(databaseURL, "SELECT count(*) FROM dag_runs"), "6")
        XCTAssertEqual(try psql(databaseURL, "SELECT count(*) FROM task_instances WHERE state = 'success'"), "\(expectedTasks.count)")
        XCTAssertEqual(try psql(databaseURL, "SELECT count(*) FROM task_attempts WHERE state = 'success'"), "\(expectedTasks.count)")
        let histories = try psql(databaseURL, """
            SELECT string_agg(state || ':' || hostname, ',' ORDER BY try_number) FROM task_attempts GROUP BY run_id, task_id
            """).split(separator: "\n").map(String.init)
        XCTAssertEqual(histories.count, expectedTasks.count)
        for history in histories {
            XCTAssertTrue(["success:node-a", "success:node-b", "up_for_retry:node-a,success:node-b"].contains(history), history)
        }
        // (A worker may also have died with node-a between its claim and its task's first stamp.)
        XCTAssertGreaterThanOrEqual(histories.filter { $0.hasPrefix("up_for_retry") }.count, lost.count, "\(histories)")
        XCTAssertEqual(try psql(databaseURL, "SELECT count(*) FROM task_attempts WHERE state <> 'success' AND note NOT LIKE 'node lost: node-a%'"), "0")
        XCTAssertEqual(b.stopDaemon(), 0)
    }

    /// Kills a machine's worth of processes: the daemon and everything descended from it (workers, tasks and their
    /// children, whatever their process group). All are stopped first, so that none starts another meanwhile.
    func killMachine(of daemon: Int32) -> Int {
        var tree: Set<Int32> = []
        var next: Set<Int32> = [daemon]
        while next != tree {
            for pid in next.subtracting(tree) { kill(pid, SIGSTOP) }
            tree = next
            next = Self.descendants(of: daemon).union([daemon])
        }
        for pid in tree { kill(pid, SIGKILL) }
        return tree.count
    }

    static func descendants(of root: Int32) -> Set<Int32> {
        var children: [Int32: [Int32]] = [:]
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let pid = Int32(entry), let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { continue }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            if fields.count > 1, let parent = Int32(fields[1]) { children[parent, default: []].append(pid) }
        }
        var found: Set<Int32> = []
        var queue = [root]
        while let pid = queue.popLast() {
            for child in children[pid] ?? [] where found.insert(child).inserted { queue.append(child) }
        }
        return found
    }
}
