import Foundation
import MetadataStore
import Scheduler
import XCTest

final class DispatchPlannerTests: XCTestCase {
    private let day1 = utc(2024, 1, 1)
    private let day2 = utc(2024, 1, 2)

    private func instance(_ dag: String, _ task: String, run: String = "r1", state: TaskState = .scheduled,
                          pool: String = "default_pool", priority: Int = 1) -> TaskInstance {
        TaskInstance(key: TaskKey(dagId: dag, runId: run, taskId: task), state: state, maxTries: 1, pool: pool,
                     priorityWeight: priority)
    }

    private func candidate(_ dag: String, _ task: String, run: String = "r1", date: Date? = nil, order: Int = 0,
                           pool: String = "default_pool", priority: Int = 1, maxActiveTasks: Int = 16) -> DispatchCandidate {
        DispatchCandidate(instance: instance(dag, task, run: run, pool: pool, priority: priority), logicalDate: date ?? day1,
                          taskOrder: order, maxActiveTasks: maxActiveTasks)
    }

    private func limits(_ parallelism: Int, _ pools: [String: Int] = ["default_pool": 128]) -> DispatchPlanner.Limits {
        .init(parallelism: parallelism, poolSlots: pools)
    }

    private func started(_ plan: DispatchPlanner.Plan) -> [String] {
        plan.start.map { "\($0.key.dagId).\($0.key.taskId)" }
    }

    func testEverythingStartsWithinLimits() {
        let candidates = (0..<3).map { candidate("d", "t\($0)", order: $0) }
        let plan = DispatchPlanner.plan(candidates: candidates, active: [], limits: limits(32))
        XCTAssertEqual(started(plan), ["d.t0", "d.t1", "d.t2"])
        XCTAssertEqual(plan.unknownPool, [])
    }

    func testParallelismCountsActiveInstances() {
        let candidates = (0..<5).map { candidate("d\($0)", "t", order: 0) }
        let active = [instance("other", "x", state: .running)]
        let plan = DispatchPlanner.plan(candidates: candidates, active: active, limits: limits(3))
        XCTAssertEqual(started(plan), ["d0.t", "d1.t"])

        let full = DispatchPlanner.plan(candidates: candidates, active: active + [instance("other", "y", state: .queued),
                                                                                  instance("other", "z", state: .running)],
                                        limits: limits(3))
        XCTAssertEqual(full.start, [])
    }

    func testANodesParallelismCountsOnlyItsOwnActiveInstances() {
        let candidates = (0..<4).map { candidate("d\($0)", "t", order: 0) }
        var mine = instance("other", "x", state: .running)
        mine.hostname = "node-a"
        var theirs = instance("other", "y", state: .running)
        theirs.hostname = "node-b"
        let plan = DispatchPlanner.plan(candidates: candidates, active: [mine, theirs, theirs],
                                        limits: .init(parallelism: 3, poolSlots: ["default_pool": 128], node: "node-a"))
        XCTAssertEqual(started(plan), ["d0.t", "d1.t"], "node-a runs one of its own: two more")
    }

    func testMaxActiveTasksIsPerDag() {
        let candidates = [
            candidate("a", "t1", order: 1, maxActiveTasks: 2),
            candidate("a", "t2", order: 2, maxActiveTasks: 2),
            candidate("a", "t3", order: 3, maxActiveTasks: 2),
            candidate("b", "t1", order: 1, maxActiveTasks: 2),
            candidate("b", "t2", order: 2, maxActiveTasks: 2),
        ]
        let active = [instance("a", "t0", run: "r0", state: .running)]
        let plan = DispatchPlanner.plan(candidates: candidates, active: active, limits: limits(32))
        // a already has one running, so only one more; b is not held back by a
        XCTAssertEqual(started(plan), ["a.t1", "b.t1", "b.t2"])
    }

    func testPoolSlotsAreSharedAcrossDags() {
        let pools = ["default_pool": 128, "db": 2]
        let candidates = [
            candidate("a", "q1", order: 1, pool: "db"),
            candidate("b", "q2", order: 1, pool: "db"),
            candidate("c", "q3", order: 1, pool: "db"),
            candidate("c", "other", order: 2),
        ]
        let plan = DispatchPlanner.plan(candidates: candidates, active: [], limits: limits(32, pools))
        XCTAssertEqual(started(plan), ["a.q1", "b.q2", "c.other"])

        let busy = [instance("z", "running_query", state: .running, pool: "db")]
        let plan2 = DispatchPlanner.plan(candidates: candidates, active: busy, limits: limits(32, pools))
        XCTAssertEqual(started(plan2), ["a.q1", "c.other"])
    }

    func testUnknownPoolIsReportedAndStartsNothing() {
        let candidates = [
            candidate("a", "bad", order: 1, pool: "nope", priority: 100),
            candidate("a", "good", order: 2),
        ]
        let plan = DispatchPlanner.plan(candidates: candidates, active: [], limits: limits(1))
        XCTAssertEqual(plan.unknownPool.map(\.key.taskId), ["bad"])
        // the unknown-pool instance does not use the one slot
        XCTAssertEqual(started(plan), ["a.good"])
    }

    func testHigherPriorityWeightFirst() {
        let candidates = [
            candidate("a", "low", order: 0, priority: 1),
            candidate("a", "high", order: 1, priority: 10),
            candidate("a", "mid", order: 2, priority: 5),
        ]
        XCTAssertEqual(started(DispatchPlanner.plan(candidates: candidates, active: [], limits: limits(32))),
                       ["a.high", "a.mid", "a.low"])
        XCTAssertEqual(started(DispatchPlanner.plan(candidates: candidates, active: [], limits: limits(1))), ["a.high"])
    }

    func testOlderLogicalDateFirstAtEqualPriority() {
        let candidates = [
            candidate("a", "t", run: "newer", date: day2, order: 0),
            candidate("a", "t", run: "older", date: day1, order: 5),
            candidate("b", "t", run: "newest", date: utc(2024, 1, 3), order: 0, priority: 2),
        ]
        let plan = DispatchPlanner.plan(candidates: candidates, active: [], limits: limits(32))
        XCTAssertEqual(plan.start.map(\.key.runId), ["newest", "older", "newer"])

        let one = DispatchPlanner.plan(candidates: Array(candidates.prefix(2)), active: [], limits: limits(1))
        XCTAssertEqual(one.start.map(\.key.runId), ["older"])
    }

    func testUpstreamTasksFirstWithinARun() {
        let candidates = [
            candidate("a", "late", order: 3),
            candidate("a", "early", order: 1),
        ]
        XCTAssertEqual(started(DispatchPlanner.plan(candidates: candidates, active: [], limits: limits(1))), ["a.early"])
    }
}
