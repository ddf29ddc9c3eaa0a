import Foundation
import GRDB
import MetadataStore
import SQLiteStore
import XCTest

final class SQLiteMetadataStoreTests: XCTestCase {
    private var directory: URL!
    private var path: String { directory.appendingPathComponent("home/store.sqlite").path }

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("store-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        if let directory { try? FileManager.default.removeItem(at: directory) }
    }

    // MARK: Helpers

    private let t0 = Date(timeIntervalSince1970: 1_704_067_200)  // 2024-01-01T00:00:00Z
    private func day(_ n: Int) -> Date { t0.addingTimeInterval(Double(n) * 86_400) }

    private func makeRun(_ dagId: String = "etl", day n: Int = 0, type: RunType = .scheduled, state: RunState = .queued,
                         tasks: [String] = ["extract", "load"]) -> (DagRun, [TaskInstance]) {
        let logical = day(n)
        let runId = DagRun.makeRunId(type: type, logicalDate: logical)
        let run = DagRun(dagId: dagId, runId: runId, logicalDate: logical, dataIntervalStart: logical,
                         dataIntervalEnd: day(n + 1), runType: type, state: state, createdAt: day(n + 1))
        let instances = tasks.map {
            TaskInstance(key: TaskKey(dagId: dagId, runId: runId, taskId: $0), maxTries: 2, pool: "default_pool", priorityWeight: 1)
        }
        return (run, instances)
    }

    @discardableResult
    private func insertRun(_ store: SQLiteMetadataStore, _ dagId: String = "etl", day n: Int = 0, type: RunType = .scheduled,
                           state: RunState = .queued, tasks: [String] = ["extract", "load"]) throws -> DagRun {
        let (run, instances) = makeRun(dagId, day: n, type: type, state: state, tasks: tasks)
        XCTAssertTrue(try store.createRun(run, taskInstances: instances))
        return run
    }

    private func key(_ run: DagRun, _ taskId: String) -> TaskKey {
        TaskKey(dagId: run.dagId, runId: run.runId, taskId: taskId)
    }

    private func state(_ store: SQLiteMetadataStore, _ key: TaskKey) throws -> TaskState? {
        try store.taskInstance(key)?.state
    }

    /// Moves an instance through scheduled → queued (try n) → running with compare-and-sets, as scheduler and worker do.
    private func start(_ store: SQLiteMetadataStore, _ key: TaskKey) throws -> Int {
        let ti = try XCTUnwrap(store.taskInstance(key))
        let next = ti.tryNumber + 1
        XCTAssertTrue(try store.updateTaskInstance(key, expecting: [.none, .scheduled], tryNumber: ti.tryNumber,
                                                   set: [.state(.queued), .tryNumber(next)]))
        XCTAssertTrue(try store.updateTaskInstance(key, expecting: [.queued], tryNumber: next,
                                                   set: [.state(.running), .startedAt(day(1))]))
        return next
    }

    // MARK: Schema

    func testMigrationsCreateTheSchemaAndReopeningKeepsData() throws {
        do {
            let store = try SQLiteMetadataStore(path: path)
            XCTAssertEqual(store.path, path)
            try insertRun(store)
        }
        let dbQueue = try DatabaseQueue(path: path)
        let tables = try dbQueue.read { db in
            try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
        }
        for table in ["backfills", "dag_runs", "dags", "import_errors", "notifications", "pools", "sla_misses", "task_attempts", "task_instances"] {
            XCTAssertTrue(tables.contains(table), "missing table \(table) in \(tables)")
        }
        let migrations = try dbQueue.read { db in try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations") }
        XCTAssertEqual(migrations, ["v1", "v2-notification-outbox", "v3-sla-misses"])

        // Reopening migrates nothing again and sees what was written.
        let reopened = try SQLiteMetadataStore(path: path)
        let runs = try reopened.runs(RunFilter(dagId: "etl"))
        XCTAssertEqual(runs.count, 1)
        XCTAssertEqual(runs.first?.runId, "scheduled__2024-01-01T00:00:00Z")
        XCTAssertEqual(runs.first?.logicalDate, t0)
        XCTAssertEqual(try reopened.taskInstances(dagId: "etl", runId: runs[0].runId).map(\.key.taskId), ["extract", "load"])
        XCTAssertEqual(try reopened.pools(), ["default_pool": 128])
        XCTAssertEqual(try dbQueue.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM grdb_migrations") }, 3)
    }

    func testTheStoreIsInWALMode() throws {
        _ = try SQLiteMetadataStore(path: path)
        let dbQueue = try DatabaseQueue(path: path)
        let mode = try dbQueue.read { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") }
        XCTAssertEqual(mode?.lowercased(), "wal")
    }

    func testOpeningAnUnusableFileFails() throws {
        let bad = directory.appendingPathComponent("not-a-db.sqlite")
        try Data(repeating: 0x41, count: 4096).write(to: bad)
        XCTAssertThrowsError(try SQLiteMetadataStore(path: bad.path)) { error in
            XCTAssertTrue("\(error)".contains("cannot open the store at"), "\(error)")
        }
    }

    // MARK: Runs

    func testCreateRunIsInsertOrIgnoreOnDagAndLogicalDate() throws {
        let store = try SQLiteMetadataStore(path: path)
        let first = try insertRun(store, tasks: ["extract", "load"])

        // Same logical date, another run id and other tasks: ignored, and none of its instances written.
        let (manual, manualInstances) = makeRun(day: 0, type: .manual, tasks: ["other"])
        XCTAssertFalse(try store.createRun(manual, taskInstances: manualInstances))
        // The very same run again: ignored too.
        let (again, againInstances) = makeRun(day: 0)
        XCTAssertFalse(try store.createRun(again, taskInstances: againInstances))

        XCTAssertEqual(try store.runs(RunFilter(dagId: "etl")).map(\.runId), [first.runId])
        XCTAssertNil(try store.run(dagId: "etl", runId: manual.runId))
        XCTAssertEqual(try store.taskInstances(dagId: "etl", runId: manual.runId), [])
        XCTAssertEqual(try store.run(dagId: "etl", logicalDate: t0)?.runId, first.runId)

        // Another DAG may use the same logical date, and another date is a new run.
        XCTAssertTrue(try store.createRun(makeRun("other_dag", day: 0).0, taskInstances: makeRun("other_dag", day: 0).1))
        XCTAssertTrue(try store.createRun(makeRun(day: 1).0, taskInstances: makeRun(day: 1).1))
        XCTAssertEqual(try store.runs(RunFilter(dagId: "etl")).count, 2)
        XCTAssertEqual(try store.runs(RunFilter()).count, 3)
    }

    func testRunQueries() throws {
        let store = try SQLiteMetadataStore(path: path)
        try insertRun(store, day: 0, state: .success)
        try insertRun(store, day: 1, state: .failed)
        try insertRun(store, day: 2, type: .manual, state: .running)
        try insertRun(store, day: 3)
        try insertRun(store, "other", day: 5)

        XCTAssertEqual(try store.latestLogicalDate(dagId: "etl", runType: .scheduled), day(3))
        XCTAssertEqual(try store.latestLogicalDate(dagId: "etl", runType: .manual), day(2))
        XCTAssertNil(try store.latestLogicalDate(dagId: "etl", runType: .backfill))
        XCTAssertEqual(try store.previousRun(dagId: "etl", before: day(2))?.logicalDate, day(1))
        XCTAssertEqual(try store.previousRun(dagId: "etl", before: day(3))?.runType, .manual)
        XCTAssertNil(try store.previousRun(dagId: "etl", before: day(0)))

        XCTAssertEqual(try store.runs(RunFilter(dagId: "etl", states: [.success, .failed])).map(\.logicalDate), [day(0), day(1)])
        XCTAssertEqual(try store.runs(RunFilter(dagId: "etl", newestFirst: true, limit: 2)).map(\.logicalDate), [day(3), day(2)])
        XCTAssertEqual(try store.runs(RunFilter(logicalDateFrom: day(1), logicalDateThrough: day(3))).map(\.logicalDate),
                       [day(1), day(2), day(3)])
        XCTAssertEqual(try store.runs(RunFilter(states: [.queued])).map(\.dagId), ["etl", "other"])
    }

    func testUpdateRunStateIsCompareAndSet() throws {
        let store = try SQLiteMetadataStore(path: path)
        let run = try insertRun(store)

        XCTAssertFalse(try store.updateRunState(dagId: "etl", runId: run.runId, expecting: [.running], to: .success, at: day(2)))
        var stored = try XCTUnwrap(store.run(dagId: "etl", runId: run.runId))
        XCTAssertEqual(stored.state, .queued)
        XCTAssertNil(stored.startedAt)
        XCTAssertNil(stored.endedAt)

        XCTAssertTrue(try store.updateRunState(dagId: "etl", runId: run.runId, expecting: [.queued], to: .running, at: day(1)))
        stored = try XCTUnwrap(store.run(dagId: "etl", runId: run.runId))
        XCTAssertEqual(stored.state, .running)
        XCTAssertEqual(stored.startedAt, day(1))
        XCTAssertNil(stored.endedAt)

        // the second of two racing claims loses
        XCTAssertFalse(try store.updateRunState(dagId: "etl", runId: run.runId, expecting: [.queued], to: .running, at: day(3)))
        XCTAssertEqual(try store.run(dagId: "etl", runId: run.runId)?.startedAt, day(1))

        // A run finishes only once every task has: a clear landing just before this update keeps it going.
        XCTAssertFalse(try store.updateRunState(dagId: "etl", runId: run.runId, expecting: [.running], to: .failed, at: day(2)))
        XCTAssertTrue(try store.updateTaskInstance(key(run, "extract"), expecting: [.none], tryNumber: nil, set: [.state(.failed)]))
        XCTAssertTrue(try store.updateTaskInstance(key(run, "load"), expecting: [.none], tryNumber: nil, set: [.state(.upstreamFailed)]))
        XCTAssertTrue(try store.updateRunState(dagId: "etl", runId: run.runId, expecting: [.running], to: .failed, at: day(2)))
        stored = try XCTUnwrap(store.run(dagId: "etl", runId: run.runId))
        XCTAssertEqual(stored.state, .failed)
        XCTAssertEqual(stored.startedAt, day(1))
        XCTAssertEqual(stored.endedAt, day(2))

        XCTAssertFalse(try store.updateRunState(dagId: "etl", runId: "no_such_run", expecting: [.queued], to: .running, at: day(2)))
        XCTAssertFalse(try store.updateRunState(dagId: "etl", runId: run.runId, expecting: [], to: .running, at: day(2)))
        XCTAssertEqual(try store.run(dagId: "etl", runId: run.runId)?.state, .failed)
    }

    // MARK: Task instances

    func testUpdateTaskInstanceIsCompareAndSet() throws {
        let store = try SQLiteMetadataStore(path: path)
        let run = try insertRun(store)
        let extract = key(run, "extract")

        // wrong expected state: nothing changes
        XCTAssertFalse(try store.updateTaskInstance(extract, expecting: [.scheduled], tryNumber: nil,
                                                    set: [.state(.queued), .tryNumber(1), .hostname("h")]))
        var ti = try XCTUnwrap(store.taskInstance(extract))
        XCTAssertEqual(ti.state, .none)
        XCTAssertEqual(ti.tryNumber, 0)
        XCTAssertNil(ti.hostname)

        XCTAssertTrue(try store.updateTaskInstance(extract, expecting: [.none], tryNumber: nil, set: [.state(.scheduled)]))
        // right state, wrong attempt: nothing changes
        XCTAssertFalse(try store.updateTaskInstance(extract, expecting: [.scheduled], tryNumber: 3,
                                                    set: [.state(.queued), .tryNumber(4)]))
        ti = try XCTUnwrap(store.taskInstance(extract))
        XCTAssertEqual(ti.state, .scheduled)
        XCTAssertEqual(ti.tryNumber, 0)

        let queuedAt = day(1).addingTimeInterval(5)
        XCTAssertTrue(try store.updateTaskInstance(extract, expecting: [.scheduled], tryNumber: 0, set: [
            .state(.queued), .tryNumber(1), .queuedAt(queuedAt), .hostname("worker-1"), .pid(4242), .note("claimed"),
            .nextRetryAt(day(9)), .duration(1.5),
        ]))
        ti = try XCTUnwrap(store.taskInstance(extract))
        XCTAssertEqual(ti.state, .queued)
        XCTAssertEqual(ti.tryNumber, 1)
        XCTAssertEqual(ti.queuedAt, queuedAt)
        XCTAssertEqual(ti.hostname, "worker-1")
        XCTAssertEqual(ti.pid, 4242)
        XCTAssertEqual(ti.note, "claimed")
        XCTAssertEqual(ti.nextRetryAt, day(9))
        XCTAssertEqual(ti.duration, 1.5)

        // nil payloads write NULL
        XCTAssertTrue(try store.updateTaskInstance(extract, expecting: [.queued], tryNumber: 1,
                                                   set: [.pid(nil), .note(nil), .nextRetryAt(nil)]))
        ti = try XCTUnwrap(store.taskInstance(extract))
        XCTAssertNil(ti.pid)
        XCTAssertNil(ti.note)
        XCTAssertNil(ti.nextRetryAt)
        XCTAssertEqual(ti.state, .queued)

        // an update with no fields does nothing
        XCTAssertFalse(try store.updateTaskInstance(extract, expecting: [.queued], tryNumber: nil, set: []))
        // the other instance of the run was never touched
        XCTAssertEqual(try state(store, key(run, "load")), TaskState.none)
        XCTAssertEqual(try store.taskInstances(states: [.queued]).map(\.key), [extract])
    }

    func testTaskInstancesOfRunningRuns() throws {
        let store = try SQLiteMetadataStore(path: path)
        let queued = try insertRun(store, day: 0)
        let running = try insertRun(store, day: 1, state: .running)
        XCTAssertEqual(try store.taskInstancesOfRunningRuns().map(\.key), [key(running, "extract"), key(running, "load")])
        XCTAssertTrue(try store.updateRunState(dagId: "etl", runId: queued.runId, expecting: [.queued], to: .running, at: day(2)))
        XCTAssertEqual(try store.taskInstancesOfRunningRuns().count, 4)
    }

    /// Two stores on the same file (as two processes would be) race to claim the same scheduled instance.
    func testConcurrentClaimsHaveExactlyOneWinner() throws {
        let storeA = try SQLiteMetadataStore(path: path)
        let storeB = try SQLiteMetadataStore(path: path)
        let rounds = 200
        var runs: [DagRun] = []
        for round in 0..<rounds {
            let run = try insertRun(storeA, day: round, tasks: ["t"])
            XCTAssertTrue(try storeA.updateTaskInstance(key(run, "t"), expecting: [.none], tryNumber: nil, set: [.state(.scheduled)]))
            runs.append(run)
        }
        let stores = [storeA, storeB, storeA, storeB]
        var winnersPerRound: [[Int]] = []
        for run in runs {
            let taskKey = key(run, "t")
            let wins = ClaimResults(count: stores.count)
            let start = DispatchSemaphore(value: 0)
            let group = DispatchGroup()
            for (index, store) in stores.enumerated() {
                group.enter()
                Thread.detachNewThread {
                    start.wait()
                    let won = (try? store.updateTaskInstance(taskKey, expecting: [.scheduled], tryNumber: 0, set: [
                        .state(.queued), .tryNumber(1), .hostname("claimer-\(index)"),
                    ])) ?? false
                    wins.set(index, won)
                    group.leave()
                }
            }
            for _ in stores { start.signal() }
            group.wait()
            let winners = wins.winners()
            winnersPerRound.append(winners)
            let ti = try XCTUnwrap(storeB.taskInstance(taskKey))
            XCTAssertEqual(ti.state, .queued)
            XCTAssertEqual(ti.tryNumber, 1)
            if winners.count == 1 { XCTAssertEqual(ti.hostname, "claimer-\(winners[0])") }
        }
        XCTAssertEqual(winnersPerRound.filter { $0.count == 1 }.count, rounds,
                       "rounds without exactly one winner: \(winnersPerRound.enumerated().filter { $0.element.count != 1 })")
        XCTAssertEqual(try storeA.taskInstances(states: [.queued]).count, rounds)
        XCTAssertEqual(try storeA.taskInstances(states: [.scheduled]).count, 0)
    }

    // MARK: Attempts

    func testCompleteAttemptOnlyAppliesToTheRunningTry() throws {
        let store = try SQLiteMetadataStore(path: path)
        let run = try insertRun(store)
        let extract = key(run, "extract")

        // Not running yet: refused, nothing recorded.
        let early = TaskAttempt(key: extract, tryNumber: 0, state: .success)
        XCTAssertFalse(try store.completeAttempt(early, set: [.state(.success)]))
        XCTAssertEqual(try store.attempts(extract), [])

        XCTAssertEqual(try start(store, extract), 1)
        let first = TaskAttempt(key: extract, tryNumber: 1, state: .upForRetry, hostname: "h", pid: 10, startedAt: day(1),
                                endedAt: day(1).addingTimeInterval(3), exitCode: 1, note: "exit 1")
        XCTAssertTrue(try store.completeAttempt(first, set: [.state(.upForRetry), .exitCode(1), .nextRetryAt(day(2))]))
        var ti = try XCTUnwrap(store.taskInstance(extract))
        XCTAssertEqual(ti.state, .upForRetry)
        XCTAssertEqual(ti.exitCode, 1)
        XCTAssertEqual(ti.nextRetryAt, day(2))
        XCTAssertEqual(try store.attempts(extract), [first])

        // The same attempt reported twice (e.g. by recovery after the worker): refused, history unchanged.
        let duplicate = TaskAttempt(key: extract, tryNumber: 1, state: .failed, note: "orphaned")
        XCTAssertFalse(try store.completeAttempt(duplicate, set: [.state(.failed)]))
        XCTAssertEqual(try state(store, extract), .upForRetry)
        XCTAssertEqual(try store.attempts(extract), [first])

        // Second try; a stale report about try 1 cannot end it.
        XCTAssertTrue(try store.updateTaskInstance(extract, expecting: [.upForRetry], tryNumber: nil, set: [.state(.scheduled)]))
        XCTAssertEqual(try start(store, extract), 2)
        let stale = TaskAttempt(key: extract, tryNumber: 1, state: .failed)
        XCTAssertFalse(try store.completeAttempt(stale, set: [.state(.failed)]))
        XCTAssertEqual(try state(store, extract), .running)

        let second = TaskAttempt(key: extract, tryNumber: 2, state: .success, hostname: "h", pid: 11, startedAt: day(2),
                                 endedAt: day(2).addingTimeInterval(1), exitCode: 0, signal: nil)
        XCTAssertTrue(try store.completeAttempt(second, set: [.state(.success), .exitCode(0), .endedAt(day(2))]))
        ti = try XCTUnwrap(store.taskInstance(extract))
        XCTAssertEqual(ti.state, .success)
        XCTAssertEqual(ti.tryNumber, 2)
        XCTAssertEqual(ti.endedAt, day(2))
        XCTAssertEqual(try store.attempts(extract), [first, second])
    }

    func testRecordAttemptUpserts() throws {
        let store = try SQLiteMetadataStore(path: path)
        let run = try insertRun(store)
        let extract = key(run, "extract")
        try store.recordAttempt(TaskAttempt(key: extract, tryNumber: 1, state: .running, hostname: "h", pid: 5, startedAt: day(1)))
        let ended = TaskAttempt(key: extract, tryNumber: 1, state: .failed, hostname: "h", pid: 5, startedAt: day(1),
                                endedAt: day(2), exitCode: nil, signal: 9, note: "killed")
        try store.recordAttempt(ended)
        XCTAssertEqual(try store.attempts(extract), [ended])
        XCTAssertEqual(try store.attempts(key(run, "load")), [])
    }

    // MARK: Clearing

    func testClearTaskInstancesResetsFinishedOnesAndRequeuesTheRun() throws {
        let store = try SQLiteMetadataStore(path: path)
        // Failed while some tasks are still active (made so directly: the store would not finish such a run).
        let run = try insertRun(store, state: .failed, tasks: ["done", "broken", "busy", "waiting", "untouched"])
        XCTAssertTrue(try store.updateTaskInstance(key(run, "done"), expecting: [.none], tryNumber: nil, set: [
            .state(.success), .tryNumber(1), .exitCode(0), .endedAt(day(1)), .duration(2), .note("ok"), .pid(7), .hostname("h"),
        ]))
        XCTAssertTrue(try store.updateTaskInstance(key(run, "broken"), expecting: [.none], tryNumber: nil, set: [
            .state(.failed), .tryNumber(2), .exitCode(1), .endedAt(day(1)),
        ]))
        XCTAssertTrue(try store.updateTaskInstance(key(run, "busy"), expecting: [.none], tryNumber: nil,
                                                   set: [.state(.running), .tryNumber(1), .pid(99)]))
        XCTAssertTrue(try store.updateTaskInstance(key(run, "waiting"), expecting: [.none], tryNumber: nil,
                                                   set: [.state(.queued), .tryNumber(1)]))
        try store.recordAttempt(TaskAttempt(key: key(run, "broken"), tryNumber: 1, state: .upForRetry))
        try store.recordAttempt(TaskAttempt(key: key(run, "broken"), tryNumber: 2, state: .failed))

        let cleared = try store.clearTaskInstances(dagId: "etl", runId: run.runId, taskIds: ["done", "broken", "busy", "waiting"],
                                                   extraTries: ["broken": 3], at: day(3))
        XCTAssertEqual(cleared, 2)

        let done = try XCTUnwrap(store.taskInstance(key(run, "done")))
        XCTAssertEqual(done.state, TaskState.none)
        XCTAssertEqual(done.tryNumber, 1, "the attempt count is history and stays")
        XCTAssertEqual(done.maxTries, 2, "one more try by default")
        XCTAssertNil(done.exitCode)
        XCTAssertNil(done.endedAt)
        XCTAssertNil(done.duration)
        XCTAssertNil(done.note)
        XCTAssertNil(done.pid)

        let broken = try XCTUnwrap(store.taskInstance(key(run, "broken")))
        XCTAssertEqual(broken.state, TaskState.none)
        XCTAssertEqual(broken.tryNumber, 2)
        XCTAssertEqual(broken.maxTries, 5, "try_number + extraTries")
        XCTAssertEqual(try store.attempts(key(run, "broken")).map(\.tryNumber), [1, 2], "attempt history stays")

        let busy = try XCTUnwrap(store.taskInstance(key(run, "busy")))
        XCTAssertEqual(busy.state, .running)
        XCTAssertEqual(busy.pid, 99)
        XCTAssertEqual(try state(store, key(run, "waiting")), .queued)
        XCTAssertEqual(try state(store, key(run, "untouched")), TaskState.none)

        let requeued = try XCTUnwrap(store.run(dagId: "etl", runId: run.runId))
        XCTAssertEqual(requeued.state, .queued)
        XCTAssertNil(requeued.endedAt)
    }

    func testClearingAWaitingSensorForgetsItsFirstPoke() throws {
        let store = try SQLiteMetadataStore(path: path)
        let run = try insertRun(store, state: .running, tasks: ["wait", "done"])
        // A sensor between pokes: its try went back to 0 and its attempt 1 (started at the first poke) never ended.
        XCTAssertTrue(try store.updateTaskInstance(key(run, "wait"), expecting: [.none], tryNumber: nil, set: [.state(.upForRetry), .tryNumber(0)]))
        try store.recordAttempt(TaskAttempt(key: key(run, "wait"), tryNumber: 1, state: .running, startedAt: day(1)))
        // A finished task's attempts are history and stay.
        XCTAssertTrue(try store.updateTaskInstance(key(run, "done"), expecting: [.none], tryNumber: nil, set: [.state(.failed), .tryNumber(1)]))
        try store.recordAttempt(TaskAttempt(key: key(run, "done"), tryNumber: 1, state: .failed, startedAt: day(1), endedAt: day(1)))

        XCTAssertEqual(try store.clearTaskInstances(dagId: "etl", runId: run.runId, taskIds: ["wait", "done"], extraTries: [:], at: day(2)), 2)
        XCTAssertEqual(try store.attempts(key(run, "wait")), [], "the next poke starts the timeout afresh")
        XCTAssertEqual(try store.attempts(key(run, "done")).count, 1)
    }

    func testClearRequeuesAFinishedRunOnlyWhenSomethingWasCleared() throws {
        let store = try SQLiteMetadataStore(path: path)
        let run = try insertRun(store, state: .failed, tasks: ["a", "b"])
        XCTAssertTrue(try store.updateTaskInstance(key(run, "a"), expecting: [.none], tryNumber: nil, set: [.state(.failed), .tryNumber(1)]))
        XCTAssertTrue(try store.updateTaskInstance(key(run, "b"), expecting: [.none], tryNumber: nil, set: [.state(.running), .tryNumber(1)]))

        XCTAssertEqual(try store.clearTaskInstances(dagId: "etl", runId: run.runId, taskIds: ["b"], extraTries: [:], at: day(3)), 0)
        XCTAssertEqual(try store.run(dagId: "etl", runId: run.runId)?.state, .failed)

        // The caller may have read the run while it was still running: the store decides, in the same transaction.
        XCTAssertEqual(try store.clearTaskInstances(dagId: "etl", runId: run.runId, taskIds: ["a"], extraTries: [:], at: day(3)), 1)
        XCTAssertEqual(try store.run(dagId: "etl", runId: run.runId)?.state, .queued)
        XCTAssertEqual(try state(store, key(run, "a")), TaskState.none)
    }

    // MARK: Pools

    func testPools() throws {
        let store = try SQLiteMetadataStore(path: path)
        XCTAssertEqual(try store.pools(), ["default_pool": 128])
        try store.setPool(name: "db", slots: 2)
        try store.setPool(name: "default_pool", slots: 8)
        XCTAssertEqual(try store.pools(), ["default_pool": 8, "db": 2])
        try store.setPool(name: "db", slots: 5)
        XCTAssertEqual(try store.pools()["db"], 5)
        XCTAssertTrue(try store.deletePool(name: "db"))
        XCTAssertFalse(try store.deletePool(name: "db"))
        XCTAssertEqual(try store.pools(), ["default_pool": 8])
    }

    // MARK: Backfills

    func testBackfillCreateAndAssignRuns() throws {
        let store = try SQLiteMetadataStore(path: path)
        let id = try store.createBackfill(dagId: "etl", start: day(0), end: day(4), maxActiveRuns: 3, at: day(10))
        XCTAssertEqual(try store.backfill(id: id),
                       Backfill(id: id, dagId: "etl", start: day(0), end: day(4), maxActiveRuns: 3, createdAt: day(10)))
        XCTAssertNil(try store.backfill(id: id + 100))
        let second = try store.createBackfill(dagId: "etl", start: day(5), end: day(6), maxActiveRuns: 1, at: day(10))
        XCTAssertNotEqual(second, id)

        let r0 = try insertRun(store, day: 0)
        let r1 = try insertRun(store, day: 1)
        let r2 = try insertRun(store, day: 2)
        XCTAssertEqual(try store.runs(RunFilter(backfillId: id)), [])
        try store.assignRuns(dagId: "etl", runIds: [r0.runId, r2.runId], toBackfill: id)
        XCTAssertEqual(try store.runs(RunFilter(backfillId: id)).map(\.runId), [r0.runId, r2.runId])
        XCTAssertEqual(try store.run(dagId: "etl", runId: r0.runId)?.backfillId, id)
        XCTAssertNil(try store.run(dagId: "etl", runId: r1.runId)?.backfillId)

        // a run created for the backfill carries its id
        var (run, instances) = makeRun(day: 3, type: .backfill)
        run.backfillId = second
        XCTAssertTrue(try store.createRun(run, taskInstances: instances))
        XCTAssertEqual(try store.runs(RunFilter(backfillId: second)).map(\.runType), [.backfill])
    }

    // MARK: DAGs

    func testSyncDagsKeepsPausedStateAndRecordsImportErrors() throws {
        let store = try SQLiteMetadataStore(path: path)
        try store.syncDags([("a", "/dags/a.yaml"), ("b", "/dags/b.yaml")], importErrors: ["/dags/bad.yaml": "line 3: oops"], at: t0)
        XCTAssertEqual(try store.dags(), [
            DagRecord(dagId: "a", isPaused: false, fileLocation: "/dags/a.yaml"),
            DagRecord(dagId: "b", isPaused: false, fileLocation: "/dags/b.yaml"),
        ])
        XCTAssertEqual(try store.importErrors(), ["/dags/bad.yaml": "line 3: oops"])

        XCTAssertTrue(try store.setPaused(dagId: "a", paused: true))
        XCTAssertFalse(try store.setPaused(dagId: "nope", paused: true))

        // a moved file, b gone from the folder, bad.yaml fixed, another file broken
        try store.syncDags([("a", "/dags/moved/a.yaml")], importErrors: ["/dags/worse.yaml": "not valid YAML"], at: t0)
        XCTAssertEqual(try store.dags(), [DagRecord(dagId: "a", isPaused: true, fileLocation: "/dags/moved/a.yaml")])
        XCTAssertEqual(try store.importErrors(), ["/dags/worse.yaml": "not valid YAML"])

        // b comes back with its old state, a stays paused
        XCTAssertTrue(try store.setPaused(dagId: "b", paused: true))
        try store.syncDags([("a", "/dags/a.yaml"), ("b", "/dags/b.yaml")], importErrors: [:], at: t0)
        XCTAssertEqual(try store.dags().map(\.isPaused), [true, true])
        XCTAssertEqual(try store.importErrors(), [:])

        XCTAssertTrue(try store.setPaused(dagId: "a", paused: false))
        try store.syncDags([("a", "/dags/a.yaml"), ("b", "/dags/b.yaml")], importErrors: [:], at: t0)
        XCTAssertEqual(try store.dags().map(\.isPaused), [false, true])

        // the state survives reopening the store
        let reopened = try SQLiteMetadataStore(path: path)
        XCTAssertEqual(try reopened.dags().map(\.isPaused), [false, true])
    }

    func testRegisterDagAddsOneDagWithoutTouchingOthers() throws {
        let store = try SQLiteMetadataStore(path: path)
        try store.syncDags([("a", "/dags/a.yaml")], importErrors: [:], at: t0)
        XCTAssertTrue(try store.setPaused(dagId: "a", paused: true))
        try store.registerDag(dagId: "c", fileLocation: "/dags/c.yaml", at: t0)
        try store.registerDag(dagId: "a", fileLocation: "/dags/a2.yaml", at: t0)
        XCTAssertEqual(try store.dags(), [
            DagRecord(dagId: "a", isPaused: true, fileLocation: "/dags/a2.yaml"),
            DagRecord(dagId: "c", isPaused: false, fileLocation: "/dags/c.yaml"),
        ])
    }

    func testNotificationOutboxQueuesEachEventOnceAndRecordsAttempts() throws {
        let store = try SQLiteMetadataStore(path: path)
        XCTAssertTrue(try store.enqueueNotification(eventKey: "run_failed/etl/r1", target: "https://a", payload: "{}", at: t0))
        XCTAssertFalse(try store.enqueueNotification(eventKey: "run_failed/etl/r1", target: "https://a", payload: "{}", at: t0), "once per event and target")
        XCTAssertTrue(try store.enqueueNotification(eventKey: "run_failed/etl/r1", target: "https://b", payload: "{}", at: t0))
        let due = try store.dueNotifications(now: t0, limit: 10)
        XCTAssertEqual(due.map(\.target), ["https://a", "https://b"])
        try store.recordNotificationAttempt(id: due[0].id, delivered: false, error: "HTTP 500", nextAttemptAt: t0.addingTimeInterval(2), at: t0)
        try store.recordNotificationAttempt(id: due[1].id, delivered: true, error: nil, nextAttemptAt: nil, at: t0)
        XCTAssertEqual(try store.dueNotifications(now: t0.addingTimeInterval(1), limit: 10).count, 0, "the retry is not due yet")
        let retry = try store.dueNotifications(now: t0.addingTimeInterval(2), limit: 10)
        XCTAssertEqual(retry.map(\.attempts), [1])
        XCTAssertEqual(retry.first?.lastError, "HTTP 500")
        XCTAssertEqual(try store.nextNotificationAttempt(), t0.addingTimeInterval(2))
        try store.recordNotificationAttempt(id: retry[0].id, delivered: false, error: "HTTP 500", nextAttemptAt: nil, at: t0)
        let counts = try store.notificationCounts()
        XCTAssertEqual([counts.pending, counts.delivered, counts.failed], [0, 1, 1])
    }
}

/// Which claimers won one round; written from several threads.
private final class ClaimResults: @unchecked Sendable {
    private let lock = NSLock()
    private var results: [Bool]

    init(count: Int) { results = Array(repeating: false, count: count) }

    func set(_ index: Int, _ value: Bool) {
        lock.lock()
        results[index] = value
        lock.unlock()
    }

    func winners() -> [Int] {
        lock.lock()
        defer { lock.unlock() }
        return results.indices.filter { results[$0] }
    }

}
