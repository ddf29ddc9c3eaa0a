import Foundation
import MetadataStore
import XCTest

// The once-only rules several schedulers (nodes) rely on when they run the same pass on one store at the same time
// (decision 0012): each is a compare-and-set or an insert that ignores a repeat, so exactly one of the racers wins.
extension StoreConformanceTests {
    func testARunDueOnItsScheduleIsCreatedOnceByRacingSchedulers() throws {
        let store = try makeStore()
        let rounds = 20
        let schedulers = try (0..<4).map { _ in try openAgain() }
        // Each round the same due run (its run id follows from the logical date), decided by four schedulers at once.
        let due = (0..<rounds).map { makeRun(day: $0, tasks: ["extract", "load"]) }
        let wins = race(rounds: rounds, claimers: schedulers.count) { round, s in
            try schedulers[s].createRun(due[round].0, taskInstances: due[round].1) ? 1 : 0
        }
        XCTAssertEqual(wins, Array(repeating: 1, count: rounds), "one scheduler created each run")
        XCTAssertEqual(try store.runs(RunFilter(dagId: "etl")).count, rounds)
        let first = try XCTUnwrap(store.runs(RunFilter(dagId: "etl")).first)
        XCTAssertEqual(try store.taskInstances(dagId: "etl", runId: first.runId).map(\.key.taskId).sorted(), ["extract", "load"])
    }

    func testARunIsFinishedOnceByRacingSchedulers() throws {
        let store = try makeStore()
        let rounds = 20
        let runs = try (0..<rounds).map { round in
            let run = try insertRun(store, day: round, state: .running, tasks: ["t"])
            XCTAssertTrue(try store.updateTaskInstance(key(run, "t"), expecting: [.none], tryNumber: nil, set: [.state(.success)]))
            return run
        }
        let schedulers = try (0..<4).map { _ in try openAgain() }
        // Only the winner queues the run's notification, so one winner each round is one notification.
        let finishedAt = day(40)
        let wins = race(rounds: rounds, claimers: schedulers.count) { round, s in
            try schedulers[s].updateRunState(dagId: "etl", runId: runs[round].runId, expecting: [.running], to: .success,
                                             at: finishedAt) ? 1 : 0
        }
        XCTAssertEqual(wins, Array(repeating: 1, count: rounds), "one scheduler finished each run")
        XCTAssertEqual(try store.runs(RunFilter(states: [.success])).count, rounds)
    }

    func testTasksNewInTheDagFileJoinARunningRunOnceWhenSchedulersRace() throws {
        let store = try makeStore()
        let rounds = 20
        let runs = try (0..<rounds).map { try insertRun(store, day: $0, state: .running, tasks: ["extract"]) }
        let schedulers = try (0..<4).map { _ in try openAgain() }
        let missing = runs.map { TaskInstance(key: key($0, "load"), maxTries: 1, pool: "default_pool", priorityWeight: 1) }
        let added = race(rounds: rounds, claimers: schedulers.count) { round, s in
            try schedulers[s].addTaskInstances([missing[round]])
        }
        XCTAssertEqual(added, Array(repeating: 1, count: rounds), "the new task was added once to each run")
        XCTAssertEqual(try store.taskInstances(dagId: "etl", runId: runs[0].runId).map(\.key.taskId).sorted(), ["extract", "load"])
    }

    func testAPlannerDecisionIsTakenOnceByRacingSchedulers() throws {
        let store = try makeStore()
        let rounds = 20
        let runs = try (0..<rounds).map { try insertRun(store, day: $0, state: .running, tasks: ["t"]) }
        let schedulers = try (0..<4).map { _ in try openAgain() }
        let keys = runs.map { key($0, "t") }, decidedAt = day(40)
        let wins = race(rounds: rounds, claimers: schedulers.count) { round, s in
            try schedulers[s].update(keys[round], .decided(from: .none, to: .scheduled, note: nil, tryNumber: 0, at: decidedAt)) ? 1 : 0
        }
        XCTAssertEqual(wins, Array(repeating: 1, count: rounds))
        XCTAssertEqual(try store.taskInstances(states: [.scheduled]).count, rounds)
    }

    func testAPlannerDecisionTakenOnAnOlderTryDoesNotApplyToTheNext() throws {
        let store = try makeStore()
        let run = try insertRun(store, day: 0, state: .running, tasks: ["t"])
        let taskKey = key(run, "t")
        let retryAt = day(1)
        XCTAssertTrue(try store.updateTaskInstance(taskKey, expecting: [.none], tryNumber: nil,
                                                   set: [.state(.upForRetry), .tryNumber(1), .nextRetryAt(day(0))]))
        // Scheduler A read try 1 up for retry, its delay passed. Meanwhile scheduler B retried it, and try 2 failed
        // too: up for retry again, not before `retryAt`.
        let staleTry = try XCTUnwrap(store.taskInstance(taskKey)).tryNumber
        let other = try openAgain()
        XCTAssertTrue(try other.update(taskKey, .decided(from: .upForRetry, to: .scheduled, note: nil, tryNumber: staleTry, at: day(0))))
        XCTAssertTrue(try other.updateTaskInstance(taskKey, expecting: [.scheduled], tryNumber: 1, set: [.state(.queued), .tryNumber(2)]))
        XCTAssertTrue(try other.updateTaskInstance(taskKey, expecting: [.queued], tryNumber: 2,
                                                   set: [.state(.upForRetry), .nextRetryAt(retryAt)]))
        // A's decision, on its older read, must not cut try 2's delay short.
        XCTAssertFalse(try store.update(taskKey, .decided(from: .upForRetry, to: .scheduled, note: nil, tryNumber: staleTry, at: day(0))))
        let instance = try XCTUnwrap(store.taskInstance(taskKey))
        XCTAssertEqual(instance.state, .upForRetry)
        XCTAssertEqual(instance.tryNumber, 2)
        XCTAssertEqual(instance.nextRetryAt, retryAt)
        // Nor does a dispatch failure decided on try 1 fail the instance scheduled again for try 3.
        XCTAssertTrue(try other.update(taskKey, .decided(from: .upForRetry, to: .scheduled, note: nil, tryNumber: 2, at: retryAt)))
        XCTAssertFalse(try store.update(taskKey, .cannotRun(note: "pool 'x' is not defined", tryNumber: staleTry, at: retryAt)))
        XCTAssertEqual(try state(store, taskKey), .scheduled)
    }
}
