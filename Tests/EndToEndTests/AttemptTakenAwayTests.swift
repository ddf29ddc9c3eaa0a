import Foundation
import GRDB
import XCTest

/// A worker whose attempt is taken away under it (another node declared it lost, a user marked or cleared it) finds
/// out at its next heartbeat: it terminates the task's process group, records nothing over the new state, says so
/// in the attempt's log and exits. Another node's write is done here by SQL on the store, as that node would.
enum AttemptTakenAway {
    static let dag = """
        dag_id: spinning
        schedule: null
        start_date: 2024-01-01
        tasks:
          - { id: spin, command: 'while true; do echo tick >> "$WORK/ticks"; sleep 0.2; done' }
        """

    /// Starts the spinning task, lets `takeAway` change its instance, and checks that the task stops within a
    /// heartbeat interval and a few seconds, and that the other party's state stays.
    static func check(_ h: Harness, takeAway: () throws -> Void, state: () throws -> (state: String, note: String?),
                      file: StaticString = #filePath, line: UInt = #line) throws {
        try h.writeDag("spinning", dag)
        try h.startDaemon()
        XCTAssertEqual(try h.run(["trigger", "spinning", "--date", "2024-01-01"]).status, 0, file: file, line: line)
        try h.waitFor("the task to tick") { h.lines("ticks").count >= 5 }
        try takeAway()
        let takenAt = Date()
        // Heartbeats come every 5 s; the shell dies at SIGTERM. Stopped = no tick for a second and a half.
        var last = h.lines("ticks").count
        var quietSince = Date()
        while Date().timeIntervalSince(quietSince) < 1.5 {
            XCTAssertLessThan(Date().timeIntervalSince(takenAt), 12, "the task still runs \(Date().timeIntervalSince(takenAt)) s later",
                              file: file, line: line)
            if Date().timeIntervalSince(takenAt) > 12 { break }
            usleep(100_000)
            let now = h.lines("ticks").count
            if now != last { last = now; quietSince = Date() }
        }
        let stoppedAfter = quietSince.timeIntervalSince(takenAt)
        XCTAssertLessThan(stoppedAfter, 8, "within a heartbeat interval and a few seconds", file: file, line: line)
        Thread.sleep(forTimeInterval: 2)
        XCTAssertEqual(h.lines("ticks").count, last, "the task's file stopped growing", file: file, line: line)

        let written = try state()
        XCTAssertEqual(written.state, "failed", "the other party's state stays", file: file, line: line)
        XCTAssertEqual(written.note, "marked by node-b", file: file, line: line)
        let log = try String(contentsOfFile: h.home.appendingPathComponent(
            "logs/spinning/manual__2024-01-01T00:00:00Z/spin/attempt-1.log").path, encoding: .utf8)
        XCTAssertTrue(log.contains("[orchestrator] State of this instance has been externally set to failed at try 1. Terminating instance."),
                      log, file: file, line: line)
        XCTAssertFalse(log.contains("attempt 1 ended"), "the worker records no outcome of its own: \(log)", file: file, line: line)
        XCTAssertEqual(h.stopDaemon(), 0, file: file, line: line)
    }

    static let markFailed = "UPDATE task_instances SET state = 'failed', note = 'marked by node-b' WHERE task_id = 'spin'"
}

final class AttemptTakenAwayTests: XCTestCase {
    func testOnSQLiteAWorkerWhoseAttemptIsTakenAwayStopsItsTask() throws {
        let h = try Harness()
        let store = { try DatabaseQueue(path: h.home.appendingPathComponent("orchestrator.db").path) }
        try AttemptTakenAway.check(h, takeAway: {
            try store().write { try $0.execute(sql: AttemptTakenAway.markFailed) }
        }, state: {
            let row = try XCTUnwrap(try store().read { try Row.fetchOne($0, sql: "SELECT state, note FROM task_instances WHERE task_id = 'spin'") })
            return (row["state"], row["note"])
        })
    }
}

final class PostgresAttemptTakenAwayTests: PostgresTestCase {
    func testOnPostgreSQLAWorkerWhoseAttemptIsTakenAwayStopsItsTask() throws {
        let h = try Harness()
        h.extraEnvironment["ORCHESTRATOR_STORE"] = databaseURL
        try AttemptTakenAway.check(h, takeAway: {
            try psql(databaseURL, AttemptTakenAway.markFailed)
        }, state: {
            let fields = try psql(databaseURL, "SELECT state || '|' || coalesce(note, '') FROM task_instances WHERE task_id = 'spin'")
                .split(separator: "|", omittingEmptySubsequences: false).map(String.init)
            return (fields.first ?? "", fields.count > 1 ? fields[1] : nil)
        })
    }
}
