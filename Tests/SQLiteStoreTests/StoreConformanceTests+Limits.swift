import Foundation
import MetadataStore
import XCTest

// Limits held by the store: claims and run starts count in their own transaction, so racing connections (processes,
// nodes) never overfill a pool, a DAG, a node or max_active_runs.
extension StoreConformanceTests {
    /// A running run of `dagId` whose tasks are all scheduled in `pool`.
    func insertScheduledRun(_ store: any MetadataStore, _ dagId: String = "etl", day n: Int, tasks: [String],
                            pool: String = "default_pool") throws -> [TaskInstance] {
        let (run, made) = makeRun(dagId, day: n, state: .running, tasks: tasks)
        let instances = made.map { instance in
            var scheduled = instance
            scheduled.pool = pool
            scheduled.state = .scheduled
            return scheduled
        }
        XCTAssertTrue(try store.createRun(run, taskInstances: instances))
        return instances
    }

    func roomy(_ node: String = "node-a") -> DispatchLimits { DispatchLimits(node: node, parallelism: 100, maxActiveTasks: 100) }

    func testAClaimForDispatchRespectsEachLimit() throws {
        let store = try makeStore()
        try store.setPool(name: "two", slots: 2)
        let pooled = try insertScheduledRun(store, day: 0, tasks: ["a", "b", "c"], pool: "two")
        XCTAssertEqual(try store.claimForDispatch(pooled[0], limits: roomy(), at: day(1)), .claimed)
        XCTAssertEqual(try store.claimForDispatch(pooled[1], limits: roomy(), at: day(1)), .claimed)
        XCTAssertEqual(try store.claimForDispatch(pooled[2], limits: roomy(), at: day(1)), .poolFull)
        XCTAssertEqual(try state(store, pooled[2].key), .scheduled)
        // The claim is the scheduler's: queued at the next try, on the node.
        let claimed = try XCTUnwrap(store.taskInstance(pooled[0].key))
        XCTAssertEqual(claimed.state, .queued)
        XCTAssertEqual(claimed.tryNumber, 1)
        XCTAssertEqual(claimed.hostname, "node-a")
        // The same instance again (its try has moved on): lost, whoever holds it.
        try store.setPool(name: "two", slots: 10)
        XCTAssertEqual(try store.claimForDispatch(pooled[0], limits: roomy(), at: day(1)), .movedOn)
        // Running still holds its slot; a finished instance frees it.
        XCTAssertTrue(try store.updateTaskInstance(pooled[0].key, expecting: [.queued], tryNumber: 1, set: [.state(.running)]))
        try store.setPool(name: "two", slots: 2)
        XCTAssertEqual(try store.claimForDispatch(pooled[2], limits: roomy(), at: day(1)), .poolFull)
        XCTAssertTrue(try store.updateTaskInstance(pooled[0].key, expecting: [.running], tryNumber: 1, set: [.state(.success)]))
        XCTAssertEqual(try store.claimForDispatch(pooled[2], limits: roomy(), at: day(1)), .claimed)

        // max_active_tasks counts the DAG's active instances across its runs (the three pooled ones hold 2).
        let other = try insertScheduledRun(store, day: 1, tasks: ["x", "y"])
        let dagLimited = DispatchLimits(node: "node-a", parallelism: 100, maxActiveTasks: 3)
        XCTAssertEqual(try store.claimForDispatch(other[0], limits: dagLimited, at: day(2)), .claimed)
        XCTAssertEqual(try store.claimForDispatch(other[1], limits: dagLimited, at: day(2)), .dagFull)
        let elsewhere = try insertScheduledRun(store, "other_dag", day: 0, tasks: ["x", "y"])
        XCTAssertEqual(try store.claimForDispatch(elsewhere[0], limits: dagLimited, at: day(2)), .claimed)

        // parallelism counts only the claiming node's instances: node-a holds 4, node-b none.
        let nodeLimited = DispatchLimits(node: "node-a", parallelism: 4, maxActiveTasks: 100)
        XCTAssertEqual(try store.claimForDispatch(elsewhere[1], limits: nodeLimited, at: day(2)), .nodeFull)
        let onB = DispatchLimits(node: "node-b", parallelism: 1, maxActiveTasks: 100)
        XCTAssertEqual(try store.claimForDispatch(elsewhere[1], limits: onB, at: day(2)), .claimed)
        XCTAssertEqual(try store.taskInstance(elsewhere[1].key)?.hostname, "node-b")

        // A pool that does not exist: the instance cannot run, and is left for the scheduler to fail.
        let lost = try insertScheduledRun(store, "lost_dag", day: 0, tasks: ["x"], pool: "no_such_pool")
        XCTAssertEqual(try store.claimForDispatch(lost[0], limits: roomy(), at: day(2)), .unknownPool)
        XCTAssertEqual(try state(store, lost[0].key), .scheduled)
    }

    /// Rounds of `claimers` connections racing on fresh work: returns how many won in each round.
    /// After each round (all claimers done), the first claimer runs `afterEachRound` before the next one starts.
    func race(rounds: Int, claimers: Int, _ body: @escaping @Sendable (_ round: Int, _ claimer: Int) throws -> Int,
              afterEachRound: @escaping @Sendable (_ round: Int) throws -> Void = { _ in }) -> [Int] {
        let line = StartLine(runners: claimers)
        let wins = ClaimCounts(rounds: rounds)
        // Threads of their own: a dispatch pool may run fewer at once than there are claimers, and they wait for each other.
        let threads = (0..<claimers).map { c in Thread {
            for round in 0..<rounds {
                line.wait()
                do { wins.add(round, try body(round, c)) } catch { wins.fail("claimer \(c), round \(round): \(error)") }
                line.wait()
                guard c == 0 else { continue }
                do { try afterEachRound(round) } catch { wins.fail("after round \(round): \(error)") }
            }
            wins.finish()
        } }
        threads.forEach { $0.start() }
        wins.waitForFinish(claimers)
        XCTAssertEqual(wins.failures, [], "no claimer failed")
        return wins.counts
    }

    func testClaimsRacingFromSeveralConnectionsNeverOverfillATwoSlotPool() throws {
        let store = try makeStore()
        try store.setPool(name: "two", slots: 2)
        let rounds = 20
        // Each round a run of four scheduled tasks; the round before's claims have finished, so the pool is empty.
        let work = try (0..<rounds).map { try insertScheduledRun(store, day: $0, tasks: ["a", "b", "c", "d"], pool: "two") }
        // Four connections (as four processes or nodes), each trying every instance of the round in its own order.
        let claimers = try (0..<4).map { _ in try openAgain() }
        let cleaner = try openAgain()
        let now = day(30)
        let wins = race(rounds: rounds, claimers: claimers.count) { round, c in
            let order = c % 2 == 0 ? Array(work[round]) : work[round].reversed()
            var won = 0
            for instance in order {
                let limits = DispatchLimits(node: "node-\(c)", parallelism: 100, maxActiveTasks: 100)
                if try claimers[c].claimForDispatch(instance, limits: limits, at: now) == .claimed { won += 1 }
            }
            return won
        } afterEachRound: { round in
            for instance in work[round] {
                _ = try cleaner.updateTaskInstance(instance.key, expecting: [.queued], tryNumber: 1, set: [.state(.success)])
            }
        }
        XCTAssertEqual(wins, Array(repeating: 2, count: rounds), "two claims won in each round")
        XCTAssertEqual(try store.taskInstances(states: [.queued, .running]).count, 0)
        XCTAssertEqual(try store.taskInstances(states: [.success]).count, 2 * rounds)
    }

    func testRunStartsRacingFromSeveralConnectionsHoldMaxActiveRuns() throws {
        let store = try makeStore()
        let rounds = 20
        // Each round a DAG of its own with three queued runs, max_active_runs 2.
        let work = try (0..<rounds).map { round in try (0..<3).map { try insertRun(store, "dag_\(round)", day: $0) } }
        let starters = try (0..<4).map { _ in try openAgain() }
        let now = day(7)
        let wins = race(rounds: rounds, claimers: starters.count) { round, s in
            var won = 0
            for run in s % 2 == 0 ? work[round] : work[round].reversed()
            where try starters[s].startRun(dagId: run.dagId, runId: run.runId, maxActiveRuns: 2, at: now) == .started {
                won += 1
            }
            return won
        }
        XCTAssertEqual(wins, Array(repeating: 2, count: rounds), "two runs started in each round")
        let started = try store.runs(RunFilter(dagId: "dag_0", states: [.running]))
        XCTAssertEqual(started.count, 2)
        XCTAssertTrue(started.allSatisfy { $0.startedAt == now })
        // At the limit the other stays queued; a finished run frees its place.
        let queued = try XCTUnwrap(store.runs(RunFilter(dagId: "dag_0", states: [.queued])).first)
        XCTAssertEqual(try store.startRun(dagId: "dag_0", runId: queued.runId, maxActiveRuns: 2, at: day(8)), .atLimit)
        XCTAssertEqual(try store.startRun(dagId: "dag_0", runId: started[0].runId, maxActiveRuns: 5, at: day(8)), .movedOn)
        for task in ["extract", "load"] {
            XCTAssertTrue(try store.updateTaskInstance(key(started[0], task), expecting: [.none], tryNumber: nil, set: [.state(.skipped)]))
        }
        XCTAssertTrue(try store.updateRunState(dagId: "dag_0", runId: started[0].runId, expecting: [.running], to: .success, at: day(8)))
        XCTAssertEqual(try store.startRun(dagId: "dag_0", runId: queued.runId, maxActiveRuns: 2, at: day(8)), .started)
    }

    func testABackfillsRunsCountAgainstItsOwnLimitKeptInTheStore() throws {
        let store = try makeStore()
        try insertRun(store, day: 0, state: .running)
        let runs = try (1...3).map { try insertRun(store, day: $0) }
        let backfill = try store.createBackfill(dagId: "etl", start: day(1), end: day(3), maxActiveRuns: 1, at: day(9))
        try store.assignRuns(dagId: "etl", runIds: runs.map(\.runId), toBackfill: backfill)
        // The DAG's own running run does not count against the backfill, nor the limit given (the DAG's) instead of its own.
        XCTAssertEqual(try store.startRun(dagId: "etl", runId: runs[0].runId, maxActiveRuns: 1, at: day(9)), .started)
        XCTAssertEqual(try store.startRun(dagId: "etl", runId: runs[1].runId, maxActiveRuns: 5, at: day(9)), .atLimit)
        XCTAssertEqual(try store.startRun(dagId: "etl", runId: "no_such_run", maxActiveRuns: 5, at: day(9)), .movedOn)
    }
}
