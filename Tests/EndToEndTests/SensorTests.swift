import Foundation
import GRDB
import XCTest

/// Sensors of each kind (a file, a SQL query, a task of another DAG), each waiting then succeeding and each
/// timing out; between pokes no worker process is held and no try is used.
final class SensorTests: XCTestCase {
    func testEachSensorKindSucceedsAndTimesOut() throws {
        let h = try Harness()
        let database = h.path("signals.db")
        let queue = try DatabaseQueue(path: database)
        try queue.write { try $0.execute(sql: "CREATE TABLE ready (ds TEXT)") }
        h.extraEnvironment["ORCHESTRATOR_CONN_SIGNALS"] = "sqlite://\(database)"
        try h.writeDag("upstream", """
            dag_id: upstream
            schedule: null
            start_date: 2024-01-01
            tasks:
              - { id: load, command: "true" }
            """)
        try h.writeDag("waiting", """
            dag_id: waiting
            schedule: null
            start_date: 2024-01-01
            tasks:
              - id: file_ok
                sensor: { file: "\(h.path("flag-{{ ds }}"))", poke_interval: 1s, timeout: 60s }
              - id: file_timeout
                sensor: { file: "\(h.path("never-{{ ds }}"))", poke_interval: 1s, timeout: 3s }
              - id: sql_ok
                sensor: { sql: "SELECT 1 FROM ready WHERE ds = '{{ ds }}'", connection: signals, poke_interval: 1s, timeout: 60s }
              - id: sql_timeout
                sensor: { sql: "SELECT 1 FROM ready WHERE ds = 'never'", connection: signals, poke_interval: 1s, timeout: 3s }
              - id: external_ok
                sensor: { external_task: { dag: upstream, task: load }, poke_interval: 1s, timeout: 60s }
              - id: external_timeout
                sensor: { external_task: { dag: upstream, task: missing }, poke_interval: 1s, timeout: 3s }
              - id: after_all
                depends_on: [file_ok, sql_ok, external_ok]
                command: touch "\(h.path("after-ran"))"
            """)
        try h.startDaemon()
        XCTAssertEqual(try h.run(["trigger", "waiting", "--date", "2024-03-01"]).status, 0)
        try h.waitFor("the sensors to wait") {
            let tasks = try h.tasks(dag: "waiting", date: "2024-03-01")
            return ["file_ok", "sql_ok", "external_ok"].allSatisfy { (tasks[$0]?["note"] as? String)?.hasPrefix("waiting") == true }
        }
        // Between pokes a sensor holds no process and has used no try.
        let waiting = try h.tasks(dag: "waiting", date: "2024-03-01")
        for task in ["file_ok", "sql_ok", "external_ok"] {
            XCTAssertEqual(waiting[task]?["state"] as? String, "up_for_retry", task)
            XCTAssertEqual(waiting[task]?["try_number"] as? Int, 0, task)
            XCTAssertNil(waiting[task]?["pid"] as? Int, task)
        }
        FileManager.default.createFile(atPath: h.path("flag-2024-03-01"), contents: nil)
        try queue.write { try $0.execute(sql: "INSERT INTO ready VALUES ('2024-03-01')") }
        XCTAssertEqual(try h.run(["trigger", "upstream", "--date", "2024-03-01"]).status, 0)
        try h.waitFor("the run to finish", timeout: 60) { try h.runStates(dag: "waiting").first == "failed" }
        XCTAssertEqual(h.stopDaemon(), 0)

        let tasks = try h.tasks(dag: "waiting", date: "2024-03-01")
        for task in ["file_ok", "sql_ok", "external_ok", "after_all"] {
            XCTAssertEqual(tasks[task]?["state"] as? String, "success", "\(task): \(tasks[task] ?? [:])")
        }
        for task in ["file_ok", "sql_ok", "external_ok"] { XCTAssertEqual(tasks[task]?["try_number"] as? Int, 1, task) }
        for task in ["file_timeout", "sql_timeout", "external_timeout"] {
            XCTAssertEqual(tasks[task]?["state"] as? String, "failed", task)
            XCTAssertTrue((tasks[task]?["note"] as? String ?? "").contains("sensor timed out after 3s"), "\(tasks[task] ?? [:])")
        }
        XCTAssertTrue(FileManager.default.fileExists(atPath: h.path("after-ran")))
        let log = try h.run(["logs", "waiting", "file_ok", "--date", "2024-03-01"]).stdout
        XCTAssertTrue(log.contains("does not exist yet") && log.contains("exists\n"), log)
    }
}
