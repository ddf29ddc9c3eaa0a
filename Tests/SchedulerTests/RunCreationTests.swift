import Foundation
import MetadataStore
import Scheduler
import Workflow
import XCTest

final class RunCreationTests: XCTestCase {
    private func daily(catchup: Bool = true, start: String = "2024-01-01", end: String? = nil,
                       schedule: String = "\"@daily\"") throws -> DAG {
        try parseDag("""
            dag_id: daily
            schedule: \(schedule)
            start_date: \(start)
            \(end.map { "end_date: \($0)" } ?? "")
            catchup: \(catchup)
            tasks:
              - id: a
                command: echo a
              - id: b
                command: echo b
                depends_on: [a]
                retries: 2
                pool: db
                priority_weight: 7
            """)
    }

    func testNothingIsDueBeforeTheFirstIntervalEnds() throws {
        let dag = try daily()
        XCTAssertEqual(RunCreation.dueLogicalDates(dag: dag, latestExisting: nil, now: utc(2024, 1, 1)), [])
        XCTAssertEqual(RunCreation.dueLogicalDates(dag: dag, latestExisting: nil, now: utc(2024, 1, 1, 23, 59, 59)), [])
        XCTAssertEqual(RunCreation.dueLogicalDates(dag: dag, latestExisting: nil, now: utc(2023, 6, 1)), [])
    }

    func testExactlyOneRunIsDueOnceTheFirstDayHasEnded() throws {
        let dag = try daily()
        XCTAssertEqual(RunCreation.dueLogicalDates(dag: dag, latestExisting: nil, now: utc(2024, 1, 2)), [utc(2024, 1, 1)])
        XCTAssertEqual(RunCreation.dueLogicalDates(dag: dag, latestExisting: nil, now: utc(2024, 1, 2, 23, 59)), [utc(2024, 1, 1)])
    }

    func testCatchupCreatesEveryMissedInterval() throws {
        let dag = try daily(catchup: true)
        XCTAssertEqual(RunCreation.dueLogicalDates(dag: dag, latestExisting: nil, now: utc(2024, 1, 5, 12)),
                       [utc(2024, 1, 1), utc(2024, 1, 2), utc(2024, 1, 3), utc(2024, 1, 4)])
        XCTAssertEqual(RunCreation.dueLogicalDates(dag: dag, latestExisting: nil, now: utc(2024, 2, 1)).count, 31)
        XCTAssertEqual(RunCreation.dueLogicalDates(dag: dag, latestExisting: nil, now: utc(2024, 2, 1), limit: 3),
                       [utc(2024, 1, 1), utc(2024, 1, 2), utc(2024, 1, 3)])
    }

    func testWithoutCatchupOnlyTheLatestInterval() throws {
        let dag = try daily(catchup: false)
        XCTAssertEqual(RunCreation.dueLogicalDates(dag: dag, latestExisting: nil, now: utc(2024, 1, 5, 12)), [utc(2024, 1, 4)])
        XCTAssertEqual(RunCreation.dueLogicalDates(dag: dag, latestExisting: utc(2024, 1, 2), now: utc(2024, 1, 5, 12)),
                       [utc(2024, 1, 4)])
        XCTAssertEqual(RunCreation.dueLogicalDates(dag: dag, latestExisting: utc(2024, 1, 4), now: utc(2024, 1, 5, 12)), [])
        XCTAssertEqual(RunCreation.dueLogicalDates(dag: dag, latestExisting: nil, now: utc(2024, 1, 1, 12)), [])
    }

    func testLatestExistingContinuesAfterIt() throws {
        let dag = try daily()
        XCTAssertEqual(RunCreation.dueLogicalDates(dag: dag, latestExisting: utc(2024, 1, 2), now: utc(2024, 1, 5, 12)),
                       [utc(2024, 1, 3), utc(2024, 1, 4)])
        XCTAssertEqual(RunCreation.dueLogicalDates(dag: dag, latestExisting: utc(2024, 1, 4), now: utc(2024, 1, 5, 12)), [])
        XCTAssertEqual(RunCreation.dueLogicalDates(dag: dag, latestExisting: utc(2024, 1, 4), now: utc(2024, 1, 6)),
                       [utc(2024, 1, 5)])
        // a manual-looking date between fire times: the next scheduled date after it
        XCTAssertEqual(RunCreation.dueLogicalDates(dag: dag, latestExisting: utc(2024, 1, 2, 15), now: utc(2024, 1, 5, 12)),
                       [utc(2024, 1, 3), utc(2024, 1, 4)])
    }

    func testAnEndDateFarBeyondTheTimetablesDateLimitStillCapsAtItself() throws {
        // 152 days of minutes (218,880 logical dates) before end_date: more than a walk of the timetable covers.
        let dag = try daily(end: "2024-06-01", schedule: "\"* * * * *\"")
        XCTAssertEqual(RunCreation.dueLogicalDates(dag: dag, latestExisting: utc(2024, 5, 31, 23, 58), now: utc(2024, 7, 1)),
                       [utc(2024, 5, 31, 23, 59), utc(2024, 6, 1)])
    }

    func testEndDateIsHonoured() throws {
        let dag = try daily(end: "2024-01-03")
        XCTAssertEqual(RunCreation.dueLogicalDates(dag: dag, latestExisting: nil, now: utc(2024, 1, 10)),
                       [utc(2024, 1, 1), utc(2024, 1, 2), utc(2024, 1, 3)])
        XCTAssertEqual(RunCreation.dueLogicalDates(dag: dag, latestExisting: utc(2024, 1, 3), now: utc(2024, 1, 10)), [])
        XCTAssertNil(RunCreation.nextDueTime(dag: dag, latestExisting: utc(2024, 1, 3)))

        let noCatchup = try daily(catchup: false, end: "2024-01-03")
        XCTAssertEqual(RunCreation.dueLogicalDates(dag: noCatchup, latestExisting: nil, now: utc(2024, 1, 10)), [utc(2024, 1, 3)])
    }

    func testStartDateOffTheScheduleStartsAtTheNextFire() throws {
        let dag = try daily(start: "2024-01-01T12:00")
        XCTAssertEqual(RunCreation.dueLogicalDates(dag: dag, latestExisting: nil, now: utc(2024, 1, 2, 12)), [])
        XCTAssertEqual(RunCreation.dueLogicalDates(dag: dag, latestExisting: nil, now: utc(2024, 1, 4)),
                       [utc(2024, 1, 2), utc(2024, 1, 3)])
        XCTAssertEqual(RunCreation.nextDueTime(dag: dag, latestExisting: nil), utc(2024, 1, 3))
    }

    func testCronScheduleWithHour() throws {
        let dag = try daily(schedule: "\"0 6 * * *\"")
        XCTAssertEqual(RunCreation.dueLogicalDates(dag: dag, latestExisting: nil, now: utc(2024, 1, 3, 6)),
                       [utc(2024, 1, 1, 6), utc(2024, 1, 2, 6)])
        XCTAssertEqual(RunCreation.dueLogicalDates(dag: dag, latestExisting: nil, now: utc(2024, 1, 3, 5, 59)),
                       [utc(2024, 1, 1, 6)])
    }

    func testNextDueTime() throws {
        let dag = try daily()
        XCTAssertEqual(RunCreation.nextDueTime(dag: dag, latestExisting: nil), utc(2024, 1, 2))
        XCTAssertEqual(RunCreation.nextDueTime(dag: dag, latestExisting: utc(2024, 1, 4)), utc(2024, 1, 6))
    }

    func testUnscheduledDagHasNoDueRuns() throws {
        let dag = try daily(schedule: "null")
        XCTAssertEqual(RunCreation.dueLogicalDates(dag: dag, latestExisting: nil, now: utc(2025, 1, 1)), [])
        XCTAssertNil(RunCreation.nextDueTime(dag: dag, latestExisting: nil))
    }

    func testMakeRunBuildsTheRunAndItsInstances() throws {
        let dag = try daily()
        let logical = utc(2024, 1, 1)
        let interval = try XCTUnwrap(dag.timetable.dataInterval(forScheduled: logical))
        let (run, instances) = RunCreation.makeRun(dag: dag, logicalDate: logical, interval: interval, type: .scheduled,
                                                   params: ["x": .int(1)], now: utc(2024, 1, 2))
        XCTAssertEqual(run.runId, "scheduled__2024-01-01T00:00:00Z")
        XCTAssertEqual(run.dataIntervalStart, utc(2024, 1, 1))
        XCTAssertEqual(run.dataIntervalEnd, utc(2024, 1, 2))
        XCTAssertEqual(run.state, .queued)
        XCTAssertEqual(run.paramsJSON.replacingOccurrences(of: " ", with: ""), "{\"x\":1}")
        XCTAssertEqual(instances.map(\.key.taskId), ["a", "b"])
        XCTAssertEqual(instances.map(\.state), [.none, .none])
        XCTAssertEqual(instances.map(\.maxTries), [1, 3])
        XCTAssertEqual(instances.map(\.pool), ["default_pool", "db"])
        XCTAssertEqual(instances.map(\.priorityWeight), [1, 7])
    }
}
