import Foundation
import MetadataStore
import Scheduler
import Workflow
import XCTest

final class RunPlannerTests: XCTestCase {
    private let now = utc(2024, 1, 2, 0, 5)

    /// A run of `dag` at 2024-01-01 whose instances are in the given states (`none` when not named).
    private func makeRun(_ dag: DAG, _ states: [String: TaskState] = [:]) -> (DagRun, [TaskInstance]) {
        let logical = utc(2024, 1, 1)
        let interval = DateInterval(start: logical, end: utc(2024, 1, 2))
        var (run, instances) = RunCreation.makeRun(dag: dag, logicalDate: logical, interval: interval, type: .scheduled,
                                                   params: [:], now: now)
        run.state = .running
        for index in instances.indices {
            instances[index].state = states[instances[index].key.taskId] ?? .none
        }
        return (run, instances)
    }

    private func key(_ run: DagRun, _ taskId: String) -> TaskKey {
        TaskKey(dagId: run.dagId, runId: run.runId, taskId: taskId)
    }

    /// The task transitions of a plan as "task:from->to", in order.
    private func transitions(_ actions: [SchedulerAction]) -> [String] {
        actions.compactMap {
            if case .setTaskState(let key, let from, let to, _) = $0 { return "\(key.taskId):\(from.rawValue)->\(to.rawValue)" }
            return nil
        }
    }

    private func finished(_ actions: [SchedulerAction]) -> RunState? {
        for action in actions {
            if case .finishRun(_, _, let state) = action { return state }
        }
        return nil
    }

    private let chainYAML = """
        dag_id: chain
        schedule: "@daily"
        start_date: 2024-01-01
        tasks:
          - id: a
            command: echo a
          - id: b
            command: echo b
            depends_on: [a]
          - id: c
            command: echo c
            depends_on: b
          - id: d
            command: echo d
            depends_on: [c]
        """

    func testFreshRunSchedulesOnlyRoots() throws {
        let dag = try parseDag(chainYAML)
        let (run, instances) = makeRun(dag)
        let actions = RunPlanner.plan(dag: dag, run: run, instances: instances, previousRunStates: nil, now: now)
        XCTAssertEqual(actions, [.setTaskState(key(run, "a"), from: .none, to: .scheduled, note: nil)])
    }

    func testSuccessMovesTheNextTaskOnly() throws {
        let dag = try parseDag(chainYAML)
        let (run, instances) = makeRun(dag, ["a": .success])
        let actions = RunPlanner.plan(dag: dag, run: run, instances: instances, previousRunStates: nil, now: now)
        XCTAssertEqual(transitions(actions), ["b:none->scheduled"])
        XCTAssertNil(finished(actions))
    }

    func testUpstreamFailedCascadesThroughTheChainInOnePass() throws {
        let dag = try parseDag(chainYAML)
        let (run, instances) = makeRun(dag, ["a": .failed])
        let actions = RunPlanner.plan(dag: dag, run: run, instances: instances, previousRunStates: nil, now: now)
        XCTAssertEqual(transitions(actions), ["b:none->upstream_failed", "c:none->upstream_failed", "d:none->upstream_failed"])
        XCTAssertEqual(finished(actions), .failed)
        XCTAssertEqual(actions.last, .finishRun(dagId: "chain", runId: run.runId, state: .failed))
        if case .setTaskState(_, _, _, let note) = actions[0] {
            XCTAssertEqual(note, "an upstream task failed (trigger rule all_success)")
        } else {
            XCTFail("expected a task transition first")
        }
    }

    func testSkipCascadesThroughTheChain() throws {
        let dag = try parseDag(chainYAML)
        let (run, instances) = makeRun(dag, ["a": .success, "b": .skipped])
        let actions = RunPlanner.plan(dag: dag, run: run, instances: instances, previousRunStates: nil, now: now)
        XCTAssertEqual(transitions(actions), ["c:none->skipped", "d:none->skipped"])
        XCTAssertEqual(finished(actions), .success)
    }

    func testAllDoneTaskIsStillScheduledAfterAFailure() throws {
        let dag = try parseDag("""
            dag_id: cleanup
            schedule: null
            start_date: 2024-01-01
            tasks:
              - id: extract
                command: "true"
              - id: load
                command: "true"
                depends_on: [extract]
              - id: tidy
                command: "true"
                depends_on: [load]
                trigger_rule: all_done
            """)
        let (run, instances) = makeRun(dag, ["extract": .failed])
        let actions = RunPlanner.plan(dag: dag, run: run, instances: instances, previousRunStates: nil, now: now)
        XCTAssertEqual(transitions(actions), ["load:none->upstream_failed", "tidy:none->scheduled"])
        XCTAssertNil(finished(actions), "the run is not over while tidy has to run")
    }

    func testBranchesJoinWithOneSuccessAndNoneFailedMinOneSuccess() throws {
        let dag = try parseDag("""
            dag_id: join
            schedule: null
            start_date: 2024-01-01
            tasks:
              - id: left
                command: "true"
              - id: right
                command: "true"
              - id: any
                command: "true"
                depends_on: [left, right]
                trigger_rule: one_success
              - id: alert
                command: "true"
                depends_on: [left, right]
                trigger_rule: one_failed
              - id: join
                command: "true"
                depends_on: [left, right]
                trigger_rule: none_failed_min_one_success
            """)
        let (run, instances) = makeRun(dag, ["left": .success, "right": .running])
        let actions = RunPlanner.plan(dag: dag, run: run, instances: instances, previousRunStates: nil, now: now)
        XCTAssertEqual(transitions(actions), ["any:none->scheduled"])

        let (run2, instances2) = makeRun(dag, ["left": .success, "right": .skipped])
        let actions2 = RunPlanner.plan(dag: dag, run: run2, instances: instances2, previousRunStates: nil, now: now)
        XCTAssertEqual(transitions(actions2), ["any:none->scheduled", "alert:none->skipped", "join:none->scheduled"])
    }

    func testUpForRetryIsScheduledOnlyOnceItsTimeHasCome() throws {
        let dag = try parseDag(chainYAML)
        let (run, initial) = makeRun(dag, ["a": .upForRetry])
        var instances = initial
        let retryAt = utc(2024, 1, 2, 0, 10)
        instances[0].nextRetryAt = retryAt
        XCTAssertEqual(RunPlanner.nextRetryTime(instances), retryAt)

        let early = RunPlanner.plan(dag: dag, run: run, instances: instances, previousRunStates: nil,
                                    now: retryAt.addingTimeInterval(-1))
        XCTAssertEqual(early, [])

        let onTime = RunPlanner.plan(dag: dag, run: run, instances: instances, previousRunStates: nil, now: retryAt)
        XCTAssertEqual(onTime, [.setTaskState(key(run, "a"), from: .upForRetry, to: .scheduled, note: nil)])

        let late = RunPlanner.plan(dag: dag, run: run, instances: instances, previousRunStates: nil,
                                   now: retryAt.addingTimeInterval(3600))
        XCTAssertEqual(transitions(late), ["a:up_for_retry->scheduled"])

        // downstream tasks keep waiting for the retry
        XCTAssertFalse(transitions(late).contains { $0.hasPrefix("b:") })

        // without a retry time it is due at once
        instances[0].nextRetryAt = nil
        XCTAssertEqual(transitions(RunPlanner.plan(dag: dag, run: run, instances: instances, previousRunStates: nil, now: now)),
                       ["a:up_for_retry->scheduled"])
        XCTAssertNil(RunPlanner.nextRetryTime(instances))
    }

    func testRunFinishesSuccessWhenEverythingSucceededOrWasSkipped() throws {
        let dag = try parseDag(chainYAML)
        let (run, instances) = makeRun(dag, ["a": .success, "b": .success, "c": .success, "d": .success])
        XCTAssertEqual(RunPlanner.plan(dag: dag, run: run, instances: instances, previousRunStates: nil, now: now),
                       [.finishRun(dagId: "chain", runId: run.runId, state: .success)])

        let (run2, instances2) = makeRun(dag, ["a": .success, "b": .skipped, "c": .skipped, "d": .skipped])
        XCTAssertEqual(RunPlanner.plan(dag: dag, run: run2, instances: instances2, previousRunStates: nil, now: now),
                       [.finishRun(dagId: "chain", runId: run2.runId, state: .success)])
    }

    func testRunFinishesFailedWhenATaskFailed() throws {
        let dag = try parseDag(chainYAML)
        let (run, instances) = makeRun(dag, ["a": .success, "b": .success, "c": .success, "d": .failed])
        XCTAssertEqual(RunPlanner.plan(dag: dag, run: run, instances: instances, previousRunStates: nil, now: now),
                       [.finishRun(dagId: "chain", runId: run.runId, state: .failed)])
    }

    func testLeavesDecideTheRunStateAsInAirflow() throws {
        let dag = try parseDag("""
            dag_id: leaves
            schedule: "@daily"
            start_date: 2024-01-01
            tasks:
              - id: extract
                command: "false"
              - id: load
                depends_on: [extract]
                command: "true"
              - id: cleanup
                depends_on: [extract]
                trigger_rule: all_done
                command: "true"
            """)
        // A leaf (load) ended upstream_failed: the run failed, although the all_done leaf succeeded.
        let (run, instances) = makeRun(dag, ["extract": .failed, "load": .upstreamFailed, "cleanup": .success])
        XCTAssertEqual(finished(RunPlanner.plan(dag: dag, run: run, instances: instances, previousRunStates: nil, now: now)), .failed)

        let onlyCleanup = try parseDag("""
            dag_id: leaves
            schedule: "@daily"
            start_date: 2024-01-01
            tasks:
              - id: extract
                command: "false"
              - id: cleanup
                depends_on: [extract]
                trigger_rule: all_done
                command: "true"
            """)
        // The only leaf succeeded: Airflow counts the run as a success even though extract failed.
        let (run2, instances2) = makeRun(onlyCleanup, ["extract": .failed, "cleanup": .success])
        XCTAssertEqual(finished(RunPlanner.plan(dag: onlyCleanup, run: run2, instances: instances2, previousRunStates: nil, now: now)),
                       .success)
    }

    func testRunDoesNotFinishWhileATaskIsUnfinished() throws {
        let dag = try parseDag(chainYAML)
        for state in [TaskState.scheduled, .queued, .running] {
            let (run, instances) = makeRun(dag, ["a": .success, "b": .success, "c": .success, "d": state])
            XCTAssertEqual(RunPlanner.plan(dag: dag, run: run, instances: instances, previousRunStates: nil, now: now), [],
                           state.rawValue)
        }
        let (run, instances) = makeRun(dag, ["a": .success, "b": .success, "c": .success, "d": .upForRetry])
        var waiting = instances
        waiting[3].nextRetryAt = now.addingTimeInterval(60)
        XCTAssertEqual(RunPlanner.plan(dag: dag, run: run, instances: waiting, previousRunStates: nil, now: now), [])
    }

    func testDependsOnPastWaitsForThePreviousRun() throws {
        let dag = try parseDag("""
            dag_id: past
            schedule: "@daily"
            start_date: 2024-01-01
            tasks:
              - id: a
                command: "true"
                depends_on_past: true
              - id: b
                command: "true"
            """)
        let (run, instances) = makeRun(dag)
        func plan(_ previous: [String: TaskState]?) -> [String] {
            transitions(RunPlanner.plan(dag: dag, run: run, instances: instances, previousRunStates: previous, now: now))
        }
        for state in [TaskState.none, .scheduled, .queued, .running, .upForRetry, .failed, .upstreamFailed] {
            XCTAssertEqual(plan(["a": state, "b": .success]), ["b:none->scheduled"], "previous a \(state.rawValue)")
        }
        XCTAssertEqual(plan(["a": .success, "b": .failed]), ["a:none->scheduled", "b:none->scheduled"])
        XCTAssertEqual(plan(["a": .skipped]), ["a:none->scheduled", "b:none->scheduled"])
        // the first run, and a previous run that did not have the task yet
        XCTAssertEqual(plan(nil), ["a:none->scheduled", "b:none->scheduled"])
        XCTAssertEqual(plan(["b": .failed]), ["a:none->scheduled", "b:none->scheduled"])
    }

    func testTasksRemovedFromTheDagAreSkipped() throws {
        let dag = try parseDag(chainYAML)
        let (run, chainInstances) = makeRun(dag, ["a": .success, "b": .success, "c": .success, "d": .success])
        func extra(_ id: String, _ state: TaskState) -> TaskInstance {
            TaskInstance(key: key(run, id), state: state, maxTries: 1, pool: "default_pool", priorityWeight: 1)
        }
        let instances = chainInstances + [extra("gone_none", .none), extra("gone_scheduled", .scheduled),
                                          extra("gone_retry", .upForRetry), extra("gone_done", .failed)]
        let actions = RunPlanner.plan(dag: dag, run: run, instances: instances, previousRunStates: nil, now: now)
        XCTAssertEqual(actions, [
            .setTaskState(key(run, "gone_none"), from: .none, to: .skipped, note: "task no longer in the DAG file"),
            .setTaskState(key(run, "gone_scheduled"), from: .scheduled, to: .skipped, note: "task no longer in the DAG file"),
            .setTaskState(key(run, "gone_retry"), from: .upForRetry, to: .skipped, note: "task no longer in the DAG file"),
            // gone_done failed before it was removed; only the DAG's leaves decide the run, as in Airflow
            .finishRun(dagId: "chain", runId: run.runId, state: .success),
        ])

        // a removed task still running is left to finish, and holds the run open
        let running = chainInstances + [extra("gone_running", .running)]
        XCTAssertEqual(RunPlanner.plan(dag: dag, run: run, instances: running, previousRunStates: nil, now: now), [])
    }
}
