import Foundation
import MetadataStore
import XCTest

// Runs: creation, queries, compare-and-set of states, claims racing from two connections.
extension StoreConformanceTests {
    func testCreateRunIsInsertOrIgnoreOnDagAndLogicalDate() throws {
        let store = try makeStore()
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
        let store = try makeStore()
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
        let store = try makeStore()
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

    func testTaskInstancesOfRunningRuns() throws {
        let store = try makeStore()
        let queued = try insertRun(store, day: 0)
        let running = try insertRun(store, day: 1, state: .running)
        XCTAssertEqual(try store.taskInstancesOfRunningRuns().map(\.key), [key(running, "extract"), key(running, "load")])
        XCTAssertTrue(try store.updateRunState(dagId: "etl", runId: queued.runId, expecting: [.queued], to: .running, at: day(2)))
        XCTAssertEqual(try store.taskInstancesOfRunningRuns().count, 4)
    }

    /// Two connections to one store (as two processes would be) race to claim the same scheduled instance.
    func testConcurrentClaimsHaveExactlyOneWinner() throws {
        let storeA = try makeStore()
        let storeB = try openAgain()
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
}
