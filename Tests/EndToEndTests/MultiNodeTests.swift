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
    func dag(stamps: String, endDate: String = "2024-01-06") -> String {
        var yaml = """
            dag_id: multi
            schedule: "@daily"
            start_date: 2024-01-01
            end_date: \(endDate)
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

    /// The nodes' and the client's homes on the test database, node_timeout 10 s, the 2-slot pool made.
    func homes(_ names: [String], endDate: String = "2024-01-06", stamps stampsPath: String) throws -> [Harness] {
        let homes = try names.map { _ in try Harness() }
        for (h, name) in zip(homes, names) {
            try h.writeDag("multi", dag(stamps: stampsPath, endDate: endDate))
            h.extraEnvironment["ORCHESTRATOR_STORE"] = databaseURL
            h.extraEnvironment["ORCHESTRATOR_NODE_NAME"] = name
            h.extraEnvironment["ORCHESTRATOR_NODE_TIMEOUT"] = "10s"
        }
        XCTAssertEqual(try homes[0].run(["pools", "set", "two", "2"]).status, 0)
        return homes
    }

    /// `orchestrator backfill multi` from `h`, in the background; returns it and a reader of its stderr.
    func startBackfill(_ h: Harness, through end: String) throws -> (Process, () -> String) {
        let backfill = Process()
        backfill.executableURL = URL(fileURLWithPath: Harness.orchestrator)
        backfill.arguments = ["backfill", "multi", "--start", "2024-01-01", "--end", end]
        backfill.environment = h.environment
        let err = h.path("backfill.err")
        _ = FileManager.default.createFile(atPath: err, contents: nil)
        backfill.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: err))
        backfill.standardOutput = FileHandle.nullDevice
        try backfill.run()
        return (backfill, { (try? String(contentsOfFile: err, encoding: .utf8)) ?? "" })
    }

    /// Kills `node`'s machine while it runs tasks: at a moment when it has finished `finishedFirst` of them and its
    /// open ones are at most 1.5 s into their 3 s (so none is between its end stamp and its worker's record of it).
    /// Returns when it was killed.
    func killMidTask(_ h: Harness, node: String, stamps stampsPath: String, finishedFirst: Int) throws -> Double {
        try h.waitFor("\(node) to be in the middle of a task", timeout: 40) {
            let now = Date().timeIntervalSince1970
            let all = stamps(stampsPath).filter { $0.node == node }
            let ended = Set(all.filter { !$0.started }.map(\.attempt))
            let open = all.filter { $0.started && !ended.contains($0.attempt) }
            return ended.count >= finishedFirst && !open.isEmpty && open.allSatisfy { now - $0.time < 1.5 }
        }
        let killed = killMachine(of: try XCTUnwrap(h.daemon).processIdentifier)
        let killedAt = Date().timeIntervalSince1970
        XCTAssertGreaterThan(killed, 1, "the daemon and at least one worker")
        h.stopDaemon(signal: SIGKILL)
        return killedAt
    }

    /// Checks the stamps of `days`: each task's end stamp (its side effect) once, attempts of one task apart, at most
    /// two each, lost ones only on `lostNode`. Returns the lost attempts and the most the pool held at once.
    func checkStamps(_ stampsPath: String, days: [String], killedAt: Double, lostNode: String) -> (lost: [Stamp], poolHeld: Int) {
        let all = stamps(stampsPath).filter { days.contains($0.day) }
        let ends = all.filter { !$0.started }
        let expectedTasks = Set(days.flatMap { day in Self.tasks.map { "\(day)/\($0)" } })
        XCTAssertEqual(Set(ends.map { "\($0.day)/\($0.task)" }), expectedTasks)
        XCTAssertEqual(ends.count, expectedTasks.count, "no task's side effect happened twice")
        // Each attempt's interval: start to end, or to the kill for one that died with the node.
        let endOf = Dictionary(ends.map { ($0.attempt, $0.time) }, uniquingKeysWith: max)
        let intervals = all.filter(\.started).map { start in (start: start, end: endOf[start.attempt] ?? killedAt) }
        let lost = intervals.filter { endOf[$0.start.attempt] == nil }.map(\.start)
        XCTAssertFalse(lost.isEmpty, "\(lostNode) died in the middle of a task")
        XCTAssertTrue(lost.allSatisfy { $0.node == lostNode && $0.time < killedAt }, "\(lost.map(\.attempt))")
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
        return (lost, most)
    }

    /// From the store: every task succeeded once, after at most one attempt lost with `lostNode`, retried on `retrier`.
    func checkAttempts(runs: Int, lostNode: String, retrier: String, lost: Int, succeededOn nodes: Set<String>) throws {
        XCTAssertEqual(try psql(databaseURL, "SELECT string_agg(DISTINCT state, ',') FROM dag_runs"), "success")
        XCTAssertEqual(try psql(databaseURL, "SELECT count(*) FROM dag_runs"), "\(runs)")
        let tasks = runs * Self.tasks.count
        XCTAssertEqual(try psql(databaseURL, "SELECT count(*) FROM task_instances WHERE state = 'success'"), "\(tasks)")
        XCTAssertEqual(try psql(databaseURL, "SELECT count(*) FROM task_attempts WHERE state = 'success'"), "\(tasks)")
        let histories = try psql(databaseURL, """
            SELECT string_agg(state || ':' || hostname, ',' ORDER BY try_number) FROM task_attempts GROUP BY run_id, task_id
            """).split(separator: "\n").map(String.init)
        XCTAssertEqual(histories.count, tasks)
        let allowed = Set(nodes.map { "success:\($0)" } + ["up_for_retry:\(lostNode),success:\(retrier)"])
        for history in histories { XCTAssertTrue(allowed.contains(history), history) }
        // (A worker may also have died with the node between its claim and its task's first stamp.)
        XCTAssertGreaterThanOrEqual(histories.filter { $0.hasPrefix("up_for_retry") }.count, lost, "\(histories)")
        XCTAssertEqual(try psql(databaseURL, """
            SELECT count(*) FROM task_attempts WHERE state <> 'success' AND note NOT LIKE 'node lost: \(lostNode)%'
            """), "0")
    }

    func testTwoNodesShareABackfillAndOneMachineDyingLosesNothingAndRunsNothingTwice() throws {
        let stampsPath = NSTemporaryDirectory() + "multinode-stamps-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: stampsPath) }
        let homes = try self.homes(["node-a", "node-b", "client-c"], stamps: stampsPath)
        let (a, b, client) = (homes[0], homes[1], homes[2])
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
        let (backfill, errText) = try startBackfill(client, through: "2024-01-06")
        defer { if backfill.isRunning { backfill.terminate() } }
        let killedAt = try killMidTask(a, node: "node-a", stamps: stampsPath, finishedFirst: 1)

        try client.waitFor("the backfill to finish", timeout: 90) { !backfill.isRunning }
        XCTAssertEqual(backfill.terminationStatus, 0, errText())
        XCTAssertTrue(errText().contains("handing the runs to the nodes node-a, node-b"), errText())
        XCTAssertFalse(errText().contains("running the remaining runs here"), "node-b was alive throughout: \(errText())")

        let (lost, poolHeld) = checkStamps(stampsPath, days: Self.days, killedAt: killedAt, lostNode: "node-a")
        XCTAssertEqual(poolHeld, 2, "the 2-slot pool was full at times and never held more")
        let all = stamps(stampsPath)
        XCTAssertEqual(Set(all.map(\.node)), ["node-a", "node-b"], "both nodes ran tasks, the backfill none")
        XCTAssertTrue(all.contains { !$0.started && $0.node == "node-a" } && all.contains { !$0.started && $0.node == "node-b" })
        try checkAttempts(runs: 6, lostNode: "node-a", retrier: "node-b", lost: lost.count, succeededOn: ["node-a", "node-b"])
        XCTAssertEqual(b.stopDaemon(), 0)
    }

    /// The only node dies while a backfill from another machine follows it: once node_timeout has passed without a
    /// heartbeat, the backfill runs the remaining runs itself, the lost attempt's retry included.
    func testABackfillWhoseNodesAllDieRunsTheRestItself() throws {
        let stampsPath = NSTemporaryDirectory() + "multinode-stamps-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: stampsPath) }
        let days = Array(Self.days.prefix(3))
        let homes = try self.homes(["node-a", "client-c"], endDate: days[2], stamps: stampsPath)
        let (a, client) = (homes[0], homes[1])
        try a.startDaemon()
        let (backfill, errText) = try startBackfill(client, through: days[2])
        defer { if backfill.isRunning { backfill.terminate() } }
        let killedAt = try killMidTask(a, node: "node-a", stamps: stampsPath, finishedFirst: 0)

        try client.waitFor("the backfill to take over", timeout: 30) { errText().contains("running the remaining runs here") }
        XCTAssertGreaterThan(Date().timeIntervalSince1970 - killedAt, 4.5, "not before node_timeout after the last heartbeat")
        try client.waitFor("the backfill to finish", timeout: 90) { !backfill.isRunning }
        XCTAssertEqual(backfill.terminationStatus, 0, errText())
        XCTAssertTrue(errText().contains("handing the runs to the nodes node-a"), errText())
        XCTAssertTrue(errText().contains("no node is alive (none heartbeat for 10s); running the remaining runs here"), errText())

        let (lost, poolHeld) = checkStamps(stampsPath, days: days, killedAt: killedAt, lostNode: "node-a")
        XCTAssertLessThanOrEqual(poolHeld, 2, "the 2-slot pool never held more")
        XCTAssertTrue(stamps(stampsPath).contains { !$0.started && $0.node == "client-c" }, "the backfill ran tasks itself")
        try checkAttempts(runs: 3, lostNode: "node-a", retrier: "client-c", lost: lost.count, succeededOn: ["node-a", "client-c"])
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
