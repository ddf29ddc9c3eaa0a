import Scheduler
import Workflow
import XCTest

/// A task's worker receives the connections the task names, and no others.
final class TaskConnectionsTests: XCTestCase {
    let configured = [
        "alpha": "postgres://a:pw-a@127.0.0.1/a",
        "beta": "postgres://b:pw-b@127.0.0.1/b",
        "warehouse": "sqlite:///tmp/warehouse.db",
    ]

    func dag() throws -> DAG {
        try parseDag("""
            dag_id: grants
            schedule: null
            params: { db: beta }
            start_date: 2024-01-01
            tasks:
              - { id: plain, command: env }
              - { id: named, connections: [Alpha], command: env }
              - { id: extract, transform: extract.postgres, with: { connection: beta, tables: [t] } }
              - { id: load, transform: load.warehouse, with: { tables: [t], target: warehouse } }
              - { id: both, transform: extract.postgres, connections: [alpha], with: { connection: beta, tables: [t] } }
              - { id: poke, sensor: { sql: "select 1", connection: alpha } }
              - { id: missing, connections: [alpha, nowhere], command: env }
              - { id: steered, transform: extract.postgres, with: { connection: "{{ params.db }}", tables: [t] } }
            """)
    }

    func granted(_ taskId: String) throws -> [String: String] {
        let task = try XCTUnwrap(try dag().task(taskId))
        return try TaskConnections.environment(for: task, connections: configured)
    }

    func testEachTaskGetsOnlyWhatItNames() throws {
        XCTAssertEqual(try granted("plain"), [:])
        XCTAssertEqual(try granted("named"), ["ORCHESTRATOR_CONN_ALPHA": "postgres://a:pw-a@127.0.0.1/a"])
        XCTAssertEqual(try granted("extract"), ["ORCHESTRATOR_CONN_BETA": "postgres://b:pw-b@127.0.0.1/b"])
        XCTAssertEqual(try granted("load"), ["ORCHESTRATOR_CONN_WAREHOUSE": "sqlite:///tmp/warehouse.db"])
        XCTAssertEqual(try granted("both"), ["ORCHESTRATOR_CONN_ALPHA": "postgres://a:pw-a@127.0.0.1/a",
                                             "ORCHESTRATOR_CONN_BETA": "postgres://b:pw-b@127.0.0.1/b"])
        XCTAssertEqual(try granted("poke"), ["ORCHESTRATOR_CONN_ALPHA": "postgres://a:pw-a@127.0.0.1/a"])
        // The name as written, not as a run's params would render it: a template grants nothing.
        XCTAssertEqual(try granted("steered"), [:])
    }

    func testAnUnconfiguredNameFailsTheTaskNamingIt() throws {
        XCTAssertThrowsError(try granted("missing")) { error in
            XCTAssertEqual((error as? TaskConnections.Failure)?.message,
                           "task 'missing' names connection 'nowhere' in connections:, which is not configured"
                           + " (set ORCHESTRATOR_CONN_NOWHERE or connections: in the configuration; configured: alpha, beta, warehouse)")
        }
    }

    func testTheSchedulersOwnEnvironmentLosesEveryConnection() {
        let environment = ["PATH": "/usr/bin", "ORCHESTRATOR_HOME": "/h", "ORCHESTRATOR_CONN_ALPHA": "x", "ORCHESTRATOR_WEB_TOKEN": "t"]
        XCTAssertEqual(TaskConnections.withoutSecrets(environment), ["PATH": "/usr/bin", "ORCHESTRATOR_HOME": "/h"])
    }
}
