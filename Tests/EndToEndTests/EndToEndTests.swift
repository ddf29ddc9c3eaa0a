import Foundation
import XCTest

/// The real binaries on a temporary home: the daemon, its workers, the CLI.
final class EndToEndTests: XCTestCase {
    func testLinearChainRunsInOrderUnderTheDaemon() throws {
        let h = try Harness()
        try h.writeDag("chain", """
            dag_id: chain
            schedule: null
            start_date: 2024-01-01
            tasks:
              - id: extract
                command: echo "extract {{ ds }} $ORCHESTRATOR_RUN_ID" >> "$WORK/ledger"
              - id: transform
                depends_on: [extract]
                command: echo "transform {{ ds }}" >> "$WORK/ledger"
              - id: load
                depends_on: [transform]
                command: echo "load {{ ds }}" >> "$WORK/ledger"
            """)
        try h.startDaemon()
        let trigger = try h.run(["trigger", "chain", "--date", "2024-03-01"])
        XCTAssertEqual(trigger.status, 0, trigger.stderr)
        XCTAssertEqual(trigger.stdout.trimmingCharacters(in: .whitespacesAndNewlines), "manual__2024-03-01T00:00:00Z")
        try h.waitFor("the run to succeed") { try h.runStates(dag: "chain") == ["success"] }
        XCTAssertEqual(h.lines("ledger"), ["extract 2024-03-01 manual__2024-03-01T00:00:00Z", "transform 2024-03-01", "load 2024-03-01"])
        let tasks = try h.tasks(dag: "chain", date: "2024-03-01")
        XCTAssertEqual(tasks.values.compactMap { $0["state"] as? String }, ["success", "success", "success"])
        let log = try h.run(["logs", "chain", "extract", "--date", "2024-03-01"])
        XCTAssertEqual(log.status, 0)
        XCTAssertTrue(log.stdout.contains("attempt 1 ended success"), log.stdout)
        XCTAssertEqual(h.stopDaemon(), 0, "SIGTERM must end the daemon with exit code 0")
    }

    func testFlakyTaskSucceedsOnItsSecondTry() throws {
        let h = try Harness()
        try h.writeDag("flaky", """
            dag_id: flaky
            schedule: null
            start_date: 2024-01-01
            tasks:
              - id: flaky
                retries: 2
                retry_delay: 1s
                command: echo "try $ORCHESTRATOR_TRY_NUMBER"; test "$ORCHESTRATOR_TRY_NUMBER" -ge 2
              - id: after
                depends_on: [flaky]
                command: echo after
            """)
        let result = try h.run(["test", "flaky", "--date", "2024-01-01"])
        XCTAssertEqual(result.status, 0, result.stdout + result.stderr)
        XCTAssertTrue(result.stdout.contains("try 1"), result.stdout)
        XCTAssertTrue(result.stdout.contains("attempt 1 ended up_for_retry (exit code 1)"), result.stdout)
        XCTAssertTrue(result.stdout.contains("try 2"), result.stdout)
        XCTAssertTrue(result.stdout.contains("attempt 2 ended success"), result.stdout)
        XCTAssertFalse(result.stdout.contains("try 3"), result.stdout)
        XCTAssertTrue(result.stdout.contains("flaky  success  2/3"), result.stdout)
    }

    func testFailedTaskMarksDownstreamUpstreamFailedWhileAllDoneRuns() throws {
        let h = try Harness()
        try h.writeDag("failing", """
            dag_id: failing
            schedule: "@daily"
            start_date: 2024-01-01
            catchup: false
            tasks:
              - id: extract
                command: echo boom >&2; exit 4
              - id: transform
                depends_on: [extract]
                command: touch "$WORK/transform-ran"
              - id: load
                depends_on: [transform]
                command: touch "$WORK/load-ran"
              - id: cleanup
                depends_on: [load]
                trigger_rule: all_done
                command: touch "$WORK/cleanup-ran"
              - id: report
                depends_on: [load]
                command: touch "$WORK/report-ran"
            """)
        let result = try h.run(["backfill", "failing", "--start", "2024-01-01", "--end", "2024-01-01"])
        XCTAssertNotEqual(result.status, 0, "a backfill with a failed run exits non-zero")
        XCTAssertTrue(result.stderr.contains("1 run in the range failed"), result.stderr)
        let tasks = try h.tasks(dag: "failing", date: "2024-01-01")
        XCTAssertEqual(tasks["extract"]?["state"] as? String, "failed")
        XCTAssertEqual(tasks["extract"]?["exit_code"] as? Int, 4)
        XCTAssertEqual(tasks["transform"]?["state"] as? String, "upstream_failed")
        XCTAssertEqual(tasks["load"]?["state"] as? String, "upstream_failed")
        XCTAssertEqual(tasks["cleanup"]?["state"] as? String, "success")
        XCTAssertEqual(tasks["report"]?["state"] as? String, "upstream_failed", "a leaf that could not run fails the run")
        XCTAssertFalse(FileManager.default.fileExists(atPath: h.path("transform-ran")))
        XCTAssertFalse(FileManager.default.fileExists(atPath: h.path("load-ran")))
        XCTAssertTrue(FileManager.default.fileExists(atPath: h.path("cleanup-ran")))
        XCTAssertEqual(try h.runStates(dag: "failing"), ["failed"])
        let log = try h.run(["logs", "failing", "extract", "--date", "2024-01-01"])
        XCTAssertTrue(log.stdout.contains("boom"), log.stdout)
    }

    func testExecutionTimeoutKillsTheWholeProcessGroup() throws {
        let h = try Harness()
        try h.writeDag("slow", """
            dag_id: slow
            schedule: null
            start_date: 2024-01-01
            tasks:
              - id: slow
                execution_timeout: 1s
                command: sleep 60 & echo $! > "$WORK/background.pid"; sleep 60
            """)
        let started = Date()
        let result = try h.run(["test", "slow", "--date", "2024-01-01"])
        let elapsed = Date().timeIntervalSince(started)
        XCTAssertEqual(result.status, 1, result.stdout + result.stderr)
        XCTAssertLessThan(elapsed, 30, "the timeout must stop the task long before its 60 s sleep ends")
        XCTAssertTrue(result.stdout.contains("timed out"), result.stdout)
        let background = try XCTUnwrap(Int32(h.lines("background.pid").first ?? ""))
        try h.waitFor("the background child to die with its group", timeout: 10) { !Harness.isRunning(background) }
    }

    func testThirtyDayBackfillRunsEachDayOnceAndIsIdempotent() throws {
        let h = try Harness()
        try h.writeDag("daily", """
            dag_id: daily
            schedule: "@daily"
            start_date: 2024-01-01
            catchup: false
            max_active_runs: 8
            tasks:
              - id: a
                command: echo "a {{ ds }}" >> "$WORK/ledger"
              - id: b
                depends_on: [a]
                command: echo "b {{ ds }}" >> "$WORK/ledger"
            """)
        let dry = try h.run(["backfill", "daily", "--start", "2024-01-01", "--end", "2024-01-30", "--dry-run"])
        XCTAssertEqual(dry.status, 0, dry.stderr)
        XCTAssertTrue(dry.stderr.contains("would create 30 run(s)"), dry.stderr)
        XCTAssertEqual(try h.runs(dag: "daily").count, 0, "--dry-run changes nothing")

        let first = try h.run(["backfill", "daily", "--start", "2024-01-01", "--end", "2024-01-30"])
        XCTAssertEqual(first.status, 0, first.stderr)
        let runs = try h.runs(dag: "daily")
        XCTAssertEqual(runs.count, 30)
        XCTAssertEqual(Set(runs.compactMap { $0["state"] as? String }), ["success"])
        XCTAssertEqual(Set(runs.compactMap { $0["run_type"] as? String }), ["backfill"])
        let ledger = h.lines("ledger")
        XCTAssertEqual(ledger.count, 60)
        XCTAssertEqual(Set(ledger).count, 60, "each task ran exactly once per day")
        XCTAssertTrue(ledger.contains("a 2024-01-30") && ledger.contains("b 2024-01-01"))

        let again = try h.run(["backfill", "daily", "--start", "2024-01-01", "--end", "2024-01-30"])
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertTrue(again.stderr.contains("nothing to run"), again.stderr)
        XCTAssertEqual(h.lines("ledger").count, 60, "repeating the backfill starts nothing")
        XCTAssertEqual(try h.runs(dag: "daily").count, 30)
    }

    func testBackfillRerunFailedRerunsOnlyTheFailedTasks() throws {
        let h = try Harness()
        try h.writeDag("fragile", """
            dag_id: fragile
            schedule: "@daily"
            start_date: 2024-01-01
            catchup: false
            tasks:
              - id: a
                command: echo "a {{ ds }}" >> "$WORK/ledger"
              - id: b
                depends_on: [a]
                command: echo "b {{ ds }}" >> "$WORK/ledger"; test ! -e "$WORK/broken-{{ ds }}"
            """)
        FileManager.default.createFile(atPath: h.path("broken-2024-01-02"), contents: nil)
        let first = try h.run(["backfill", "fragile", "--start", "2024-01-01", "--end", "2024-01-03"])
        XCTAssertEqual(first.status, 1)
        try FileManager.default.removeItem(atPath: h.path("broken-2024-01-02"))
        let plain = try h.run(["backfill", "fragile", "--start", "2024-01-01", "--end", "2024-01-03"])
        XCTAssertEqual(plain.status, 1, "without --rerun-failed the failed run stays failed")
        XCTAssertEqual(h.lines("ledger").count, 6)
        let rerun = try h.run(["backfill", "fragile", "--start", "2024-01-01", "--end", "2024-01-03", "--rerun-failed"])
        XCTAssertEqual(rerun.status, 0, rerun.stderr)
        XCTAssertEqual(h.lines("ledger").count, 7, "only b of 2024-01-02 ran again")
        XCTAssertEqual(h.lines("ledger").last, "b 2024-01-02")
        let reset = try h.run(["backfill", "fragile", "--start", "2024-01-01", "--end", "2024-01-03", "--reset"])
        XCTAssertEqual(reset.status, 0, reset.stderr)
        XCTAssertEqual(h.lines("ledger").count, 13, "--reset runs every task of every run again")
    }

    func testKillingTheDaemonMidRunLosesNothingAndRunsNothingTwice() throws {
        let h = try Harness()
        try h.writeDag("durable", """
            dag_id: durable
            schedule: null
            start_date: 2024-01-01
            max_active_runs: 3
            tasks:
              - id: first
                command: echo "start first {{ ds }}" >> "$WORK/ledger"; sleep 1; echo "end first {{ ds }}" >> "$WORK/ledger"
              - id: second
                depends_on: [first]
                command: echo "start second {{ ds }}" >> "$WORK/ledger"; sleep 1; echo "end second {{ ds }}" >> "$WORK/ledger"
              - id: third
                depends_on: [second]
                command: echo "start third {{ ds }}" >> "$WORK/ledger"; echo "end third {{ ds }}" >> "$WORK/ledger"
            """)
        try h.startDaemon(["--log-level", "debug"])
        for day in ["2024-05-01", "2024-05-02", "2024-05-03"] {
            XCTAssertEqual(try h.run(["trigger", "durable", "--date", day]).status, 0)
        }
        try h.waitFor("a task to be running") { h.lines("ledger").contains { $0.hasPrefix("start") } }
        h.stopDaemon(signal: SIGKILL)
        // The workers outlive the daemon and record their own outcome; a new daemon picks up from there.
        usleep(300_000)
        try h.startDaemon(["--log-level", "debug"])
        try h.waitFor("every run to succeed", timeout: 90) {
            let states = try h.runStates(dag: "durable")
            return states.count == 3 && states.allSatisfy { $0 == "success" }
        }
        XCTAssertEqual(h.stopDaemon(), 0)
        let ledger = h.lines("ledger")
        for day in ["2024-05-01", "2024-05-02", "2024-05-03"] {
            for task in ["first", "second", "third"] {
                XCTAssertEqual(ledger.filter { $0 == "start \(task) \(day)" }.count, 1, "\(task) \(day) started once\n\(ledger)")
                XCTAssertEqual(ledger.filter { $0 == "end \(task) \(day)" }.count, 1, "\(task) \(day) ended once\n\(ledger)")
            }
        }
    }

    func testKilledWorkerIsRecordedAsAFailedAttemptAndRetried() throws {
        let h = try Harness()
        try h.writeDag("victim", """
            dag_id: victim
            schedule: null
            start_date: 2024-01-01
            tasks:
              - id: victim
                retries: 1
                retry_delay: 0s
                command: echo "try $ORCHESTRATOR_TRY_NUMBER" >> "$WORK/ledger"; if [ "$ORCHESTRATOR_TRY_NUMBER" = 1 ]; then sleep 60; fi
            """)
        try h.startDaemon()
        XCTAssertEqual(try h.run(["trigger", "victim", "--date", "2024-02-02"]).status, 0)
        try h.waitFor("the first attempt to run") { h.lines("ledger") == ["try 1"] }
        let instance = try XCTUnwrap(try h.tasks(dag: "victim", date: "2024-02-02")["victim"])
        let workerPid = try XCTUnwrap(instance["pid"] as? Int)
        XCTAssertEqual(kill(Int32(workerPid), SIGKILL), 0)
        try h.waitFor("the retry to succeed") { try h.runStates(dag: "victim") == ["success"] }
        let final = try XCTUnwrap(try h.tasks(dag: "victim", date: "2024-02-02")["victim"])
        XCTAssertEqual(final["try_number"] as? Int, 2)
        XCTAssertEqual(h.lines("ledger"), ["try 1", "try 2"])
        let firstLog = try h.run(["logs", "victim", "victim", "--date", "2024-02-02", "--try", "1"])
        XCTAssertEqual(firstLog.status, 0)
        XCTAssertEqual(h.stopDaemon(), 0)
    }

    func testSigtermLetsRunningTasksFinishWithinTheGracePeriodThenTerminatesThem() throws {
        let h = try Harness()
        try h.writeDag("graceful", """
            dag_id: graceful
            schedule: null
            start_date: 2024-01-01
            tasks:
              - id: short
                command: echo started >> "$WORK/short"; sleep 1; echo finished >> "$WORK/short"
              - id: long
                command: echo started >> "$WORK/long"; sleep 60
            """)
        try h.startDaemon(["--grace-period", "3s"])
        XCTAssertEqual(try h.run(["trigger", "graceful", "--date", "2024-01-01"]).status, 0)
        try h.waitFor("both tasks to start") { h.lines("short") == ["started"] && h.lines("long") == ["started"] }
        let stopped = Date()
        XCTAssertEqual(h.stopDaemon(), 0, "SIGTERM ends the daemon with exit code 0")
        let elapsed = Date().timeIntervalSince(stopped)
        XCTAssertGreaterThanOrEqual(elapsed, 2.5, "the daemon waits for the grace period")
        XCTAssertLessThan(elapsed, 20)
        XCTAssertEqual(h.lines("short"), ["started", "finished"], "a task that ends within the grace period finishes")
        let tasks = try h.tasks(dag: "graceful", date: "2024-01-01")
        XCTAssertEqual(tasks["short"]?["state"] as? String, "success")
        XCTAssertEqual(tasks["long"]?["state"] as? String, "failed")
        XCTAssertEqual(tasks["long"]?["signal"] as? Int, Int(SIGTERM))
        XCTAssertTrue((tasks["long"]?["note"] as? String ?? "").contains("scheduler shutdown"), "\(tasks["long"] ?? [:])")
    }

    func testRunningDaemonPicksUpAddedEditedAndBrokenDagFiles() throws {
        let h = try Harness()
        try h.startDaemon()
        try h.writeDag("late", """
            dag_id: late
            schedule: null
            start_date: 2024-01-01
            tasks:
              - id: hello
                command: echo v1 >> "$WORK/ledger"
            """)
        try h.waitFor("the new file to load") { h.daemonLogText.contains("count=1 errors=0") }
        XCTAssertEqual(try h.run(["trigger", "late", "--date", "2024-01-01"]).status, 0)
        try h.waitFor("the run of the added DAG") { h.lines("ledger") == ["v1"] }

        try h.writeDag("late", """
            dag_id: late
            schedule: null
            start_date: 2024-01-01
            tasks:
              - id: hello
                command: echo v2 >> "$WORK/ledger"
            """)
        try h.writeDag("broken", "dag_id: broken\nschedule: \"61 * * * *\"\nstart_date: 2024-01-01\ntasks: []\n")
        try h.waitFor("the broken file to be reported") { h.daemonLogText.contains("DAG file failed to load") }
        XCTAssertTrue(h.daemonLogText.contains("broken.yaml:2"), h.daemonLogText)
        XCTAssertEqual(try h.run(["trigger", "late", "--date", "2024-01-02"]).status, 0)
        try h.waitFor("the run of the edited DAG") { h.lines("ledger") == ["v1", "v2"] }
        XCTAssertEqual(h.stopDaemon(), 0)
    }

    func testTaskAddedToTheDagJoinsTheRunningRun() throws {
        let h = try Harness()
        try h.writeDag("growing", """
            dag_id: growing
            schedule: null
            start_date: 2024-01-01
            tasks:
              - id: first
                command: touch "$WORK/first-started"; sleep 1
            """)
        try h.startDaemon()
        XCTAssertEqual(try h.run(["trigger", "growing", "--date", "2024-01-01"]).status, 0)
        try h.waitFor("the first task to start") { FileManager.default.fileExists(atPath: h.path("first-started")) }
        try h.writeDag("growing", """
            dag_id: growing
            schedule: null
            start_date: 2024-01-01
            tasks:
              - id: first
                command: touch "$WORK/first-started"; sleep 1
              - id: added
                depends_on: [first]
                command: touch "$WORK/added-ran"
            """)
        try h.waitFor("the run to succeed") { try h.runStates(dag: "growing") == ["success"] }
        XCTAssertTrue(FileManager.default.fileExists(atPath: h.path("added-ran")), "the added task ran in the same run")
        XCTAssertEqual(h.stopDaemon(), 0)
    }

    func testAFinishedRunStartsTheNextQueuedRunAtOnce() throws {
        let h = try Harness()
        try h.writeDag("serial", """
            dag_id: serial
            schedule: "@daily"
            start_date: 2024-01-01
            catchup: false
            max_active_runs: 1
            tasks:
              - id: only
                command: echo "{{ ds }}" >> "$WORK/ledger"
            """)
        XCTAssertEqual(try h.run(["backfill", "serial", "--start", "2024-01-01", "--end", "2024-01-02"]).status, 0)
        // With one run at a time, each run must start as soon as the previous one ends: nothing else wakes the
        // scheduler (the periodic orphan check comes every 10 s, so three waits would take 30 s).
        let started = Date()
        let reset = try h.run(["backfill", "serial", "--start", "2024-01-01", "--end", "2024-01-04", "--reset"])
        XCTAssertEqual(reset.status, 0, reset.stderr)
        XCTAssertLessThan(Date().timeIntervalSince(started), 8, "runs waited for something other than the previous run")
        XCTAssertEqual(h.lines("ledger"), ["2024-01-01", "2024-01-02", "2024-01-01", "2024-01-02", "2024-01-03", "2024-01-04"])
    }

    func testProcessesATaskLeavesBehindEndWithIt() throws {
        let h = try Harness()
        try h.writeDag("leaky", """
            dag_id: leaky
            schedule: null
            start_date: 2024-01-01
            tasks:
              - id: leaky
                command: sleep 47 & echo $! > "$WORK/background.pid"; echo started
            """)
        let result = try h.run(["test", "leaky", "--date", "2024-01-01"])
        XCTAssertEqual(result.status, 0, result.stdout + result.stderr)
        let background = try XCTUnwrap(Int32(h.lines("background.pid").first ?? ""))
        try h.waitFor("the left-behind process to end with its task", timeout: 10) { !Harness.isRunning(background) }
    }
}
