import Foundation
import XCTest

/// `--start`, `--end` and `--date` read a wall time in a DST gap or a repeated hour the way the schedule fires it
/// (issue 16): Airflow's make_aware, fold=1.
final class DSTDateOptionTests: XCTestCase {
    func testDatesInAGapOrARepeatedHourFindTheScheduledRun() throws {
        let h = try Harness()
        // The run of 2024-03-10 fails; 02:30 does not exist that day and fires at 03:30 EDT.
        try h.writeDag("ny", """
            dag_id: ny
            schedule: "30 2 * * *"
            timezone: America/New_York
            start_date: 2024-03-01
            catchup: false
            tasks:
              - id: a
                command: test "{{ ds }}" != 2024-03-10
            """)
        try h.writeDag("fall", """
            dag_id: fall
            schedule: "30 1 * * *"
            timezone: America/New_York
            start_date: 2024-11-01
            catchup: false
            tasks:
              - id: a
                command: "true"
            """)
        let spring = try h.run(["backfill", "ny", "--start", "2024-03-10T02:30", "--end", "2024-03-10T02:30"])
        XCTAssertNotEqual(spring.status, 0, "the run of 2024-03-10 fails, as the DAG says")
        XCTAssertTrue(spring.stderr.contains("2024-03-10T03:30:00-04:00"), spring.stderr)
        // 02:30 does not exist on 2024-03-10: it reads as 03:30 EDT, where the schedule fired.
        let tasks = try h.run(["tasks", "list", "ny", "--date", "2024-03-10T02:30"])
        XCTAssertEqual(tasks.status, 0, tasks.stderr)
        XCTAssertTrue(tasks.stdout.contains("failed"), tasks.stdout)
        XCTAssertEqual(try h.run(["tasks", "list", "ny", "--date", "2024-03-10T03:30-04:00"]).stdout, tasks.stdout)

        // 01:30 happens twice on 2024-11-03; the schedule fires at the second (EST), and so reads --date.
        let fall = try h.run(["backfill", "fall", "--start", "2024-11-03T01:30", "--end", "2024-11-03T01:30"])
        XCTAssertEqual(fall.status, 0, fall.stderr)
        XCTAssertEqual(try h.runs(dag: "fall").compactMap { $0["logical_date"] as? String }, ["2024-11-03T06:30:00Z"])
        let repeated = try h.run(["tasks", "list", "fall", "--date", "2024-11-03T01:30"])
        XCTAssertEqual(repeated.status, 0, repeated.stderr)
        XCTAssertTrue(repeated.stdout.contains("success"), repeated.stdout)
        let first = try h.run(["tasks", "list", "fall", "--date", "2024-11-03T01:30-04:00"])
        XCTAssertNotEqual(first.status, 0)
        XCTAssertTrue(first.stderr.contains("no run at 2024-11-03T01:30:00-04:00"), first.stderr)

        // trigger and test read --date the same way.
        let trigger = try h.run(["trigger", "ny", "--date", "2024-03-10T02:30"])
        XCTAssertNotEqual(trigger.status, 0, "a run already exists at 03:30 EDT")
        XCTAssertTrue(trigger.stderr.contains("backfill__2024-03-10T07:30:00Z"), trigger.stderr)
    }
}
