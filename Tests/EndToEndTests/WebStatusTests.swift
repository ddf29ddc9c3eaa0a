import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import XCTest

/// The daemon's HTTP side on a real socket: pages (escaped), the JSON API with its errors, /healthz, /metrics.
final class WebStatusTests: XCTestCase {
    func get(_ url: String) throws -> (status: Int, body: String) {
        let semaphore = DispatchSemaphore(value: 0)
        let result = LockedResult()
        let task = URLSession.shared.dataTask(with: try XCTUnwrap(URL(string: url))) { data, response, _ in
            result.set((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data ?? Data(), as: UTF8.self))
            semaphore.signal()
        }
        task.resume()
        XCTAssertEqual(semaphore.wait(timeout: .now() + 10), .success)
        return result.get()
    }

    func testPagesApiHealthAndMetrics() throws {
        let h = try Harness()
        try h.writeDag("web", """
            dag_id: web
            description: "<script>alert('x')</script> & friends"
            schedule: null
            start_date: 2024-01-01
            tasks:
              - { id: extract, command: "true" }
              - { id: fail_here, depends_on: [extract], command: "exit 1" }
            """)
        try h.writeDag("broken", "dag_id: broken\nschedule: \"* *\"\nstart_date: 2024-01-01\ntasks: []\n")
        try h.startDaemon()
        XCTAssertEqual(try h.run(["trigger", "web", "--date", "2024-01-01"]).status, 0)
        try h.waitFor("the run to finish") { try h.runStates(dag: "web") == ["failed"] }
        let base = try XCTUnwrap(h.webURL, h.daemonLogText)
        XCTAssertTrue(base.hasPrefix("http://127.0.0.1:"), "binds loopback by default: \(base)")

        XCTAssertEqual(try get(base + "healthz").status, 200)
        let home = try get(base)
        XCTAssertEqual(home.status, 200)
        XCTAssertTrue(home.body.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; friends"), home.body)
        XCTAssertFalse(home.body.contains("<script>"), "nothing from a DAG file reaches the page unescaped")
        XCTAssertTrue(home.body.contains("class=\"banner\"") && home.body.contains("broken.yaml"), home.body)

        let grid = try get(base + "dags/web")
        XCTAssertEqual(grid.status, 200)
        XCTAssertTrue(grid.body.contains("data-state=\"success\"") && grid.body.contains("data-state=\"failed\""), grid.body)

        let dags = try get(base + "api/v1/dags")
        let listing = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(dags.body.utf8)) as? [String: Any])
        XCTAssertEqual((listing["dags"] as? [[String: Any]])?.compactMap { $0["dag_id"] as? String }, ["web"])
        XCTAssertEqual((listing["import_errors"] as? [[String: Any]])?.count, 1)
        let runs = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(try get(base + "api/v1/dags/web/runs").body.utf8)) as? [[String: Any]])
        XCTAssertEqual(runs.first?["state"] as? String, "failed")
        let runId = try XCTUnwrap(runs.first?["run_id"] as? String)
        let encoded = try XCTUnwrap(runId.addingPercentEncoding(withAllowedCharacters: .alphanumerics))
        let tasks = try get(base + "api/v1/dags/web/runs/\(encoded)/tasks")
        XCTAssertEqual(tasks.status, 200, tasks.body)
        XCTAssertTrue(tasks.body.contains("\"task_id\":\"fail_here\""), tasks.body)

        XCTAssertEqual(try get(base + "api/v1/dags/nope/runs").status, 404)
        XCTAssertEqual(try get(base + "dags/nope").status, 404)
        XCTAssertEqual(try get(base + "api/v1/dags/web/runs/nope/tasks").status, 404)
        XCTAssertEqual(try get(base + "api/v1/dags/web/runs?limit=0").status, 400)
        XCTAssertEqual(try get(base + "api/v1/dags/web/runs?limit=abc").status, 400)

        let metrics = try get(base + "metrics")
        XCTAssertTrue(metrics.body.contains("orchestrator_runs{state=\"failed\"} 1"), metrics.body)
        XCTAssertTrue(metrics.body.contains("orchestrator_import_errors 1"), metrics.body)
        XCTAssertEqual(h.stopDaemon(), 0)
    }
}

final class LockedResult: @unchecked Sendable {
    private let lock = NSLock()
    private var value: (Int, String) = (0, "")
    func set(_ status: Int, _ body: String) { lock.withLock { value = (status, body) } }
    func get() -> (status: Int, body: String) { lock.withLock { value } }
}
