import Foundation
import MetadataStore
import WorkerCore
import XCTest

/// The behaviour every metadata store shares, written once against the protocols only. A backend subclasses it
/// and says how to make its stores (SQLiteStoreConformanceTests; a PostgreSQL subclass beside it); the base class
/// itself runs nothing. A subclass needs at least one test method of its own: Linux test discovery lists a class's
/// inherited tests only once it has found one declared in it. Rules that are contracts rather than shared code (a run finishes only when no task is
/// unfinished, clearing forgets a waiting sensor's attempt, a poke gives its try back) are pinned here.
class StoreConformanceTests: XCTestCase {
    /// A new, empty store for this test.
    func makeStore() throws -> any MetadataStore { throw XCTSkip("abstract: a backend's subclass makes its stores") }
    /// Another connection to the store `makeStore` made (what a second process sees).
    func openAgain() throws -> any MetadataStore { throw XCTSkip("abstract") }
    /// The worker's attempt store on the store `makeStore` made.
    func makeAttemptStore() throws -> any AttemptStore { throw XCTSkip("abstract") }

    override func setUpWithError() throws {
        if type(of: self) == StoreConformanceTests.self { throw XCTSkip("abstract: run through a backend's subclass") }
    }

    // MARK: Helpers

    let t0 = Date(timeIntervalSince1970: 1_704_067_200)  // 2024-01-01T00:00:00Z
    func day(_ n: Int) -> Date { t0.addingTimeInterval(Double(n) * 86_400) }

    func makeRun(_ dagId: String = "etl", day n: Int = 0, type: RunType = .scheduled, state: RunState = .queued,
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
    func insertRun(_ store: any MetadataStore, _ dagId: String = "etl", day n: Int = 0, type: RunType = .scheduled,
                   state: RunState = .queued, tasks: [String] = ["extract", "load"]) throws -> DagRun {
        let (run, instances) = makeRun(dagId, day: n, type: type, state: state, tasks: tasks)
        XCTAssertTrue(try store.createRun(run, taskInstances: instances))
        return run
    }

    func key(_ run: DagRun, _ taskId: String) -> TaskKey {
        TaskKey(dagId: run.dagId, runId: run.runId, taskId: taskId)
    }

    func state(_ store: any MetadataStore, _ key: TaskKey) throws -> TaskState? {
        try store.taskInstance(key)?.state
    }

    /// Moves an instance through scheduled → queued (try n) → running with compare-and-sets, as scheduler and worker do.
    func start(_ store: any MetadataStore, _ key: TaskKey) throws -> Int {
        let ti = try XCTUnwrap(store.taskInstance(key))
        let next = ti.tryNumber + 1
        XCTAssertTrue(try store.updateTaskInstance(key, expecting: [.none, .scheduled], tryNumber: ti.tryNumber,
                                                   set: [.state(.queued), .tryNumber(next)]))
        XCTAssertTrue(try store.updateTaskInstance(key, expecting: [.queued], tryNumber: next,
                                                   set: [.state(.running), .startedAt(day(1))]))
        return next
    }
}
