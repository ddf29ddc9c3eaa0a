import Foundation
import XCTest

/// The daemon and a backfill running DAGs with their whole history in PostgreSQL (ORCHESTRATOR_STORE=postgres://…):
/// the scheduler writes through PostgresMetadataStore, each attempt through orchestrator-worker-postgres.
final class PostgresStoreEndToEndTests: PostgresTestCase {
    func writeLedgerDag(_ h: Harness, schedule: String = "\"@daily\"") throws {
        try h.writeDag("ledger", """
            dag_id: ledger
            schedule: \(schedule)
            start_date: 2024-01-01
            catchup: false
            tasks:
              - id: first
                # The store password reaches the worker (PGPASSWORD), never the task: a leak changes the line.
                command: echo "first {{ ds }}${PGPASSWORD:+ saw-the-store-password}" >> "$WORK/ledger"
              - id: second
                depends_on: [first]
                retries: 1
                retry_delay: 0s
                # Fails on its first try for 2024-01-02 only: the retry is scheduled and recorded on PostgreSQL too.
                command: if [ "{{ ds }}" = 2024-01-02 ] && [ ! -e "$WORK/retried" ]; then touch "$WORK/retried"; exit 3; fi; echo "second {{ ds }}" >> "$WORK/ledger"
            """)
    }

    func testABackfillRunsEveryTaskOnceWithItsHistoryInPostgreSQL() throws {
        let h = try Harness()
        h.extraEnvironment["ORCHESTRATOR_STORE"] = databaseURL
        try writeLedgerDag(h)
        let backfill = try h.run(["backfill", "ledger", "--start", "2024-01-01", "--end", "2024-01-03"])
        XCTAssertEqual(backfill.status, 0, backfill.stderr)
        XCTAssertFalse((backfill.stdout + backfill.stderr).contains("Sup3rSecretPw"))
        XCTAssertEqual(Set(h.lines("ledger")), ["first 2024-01-01", "first 2024-01-02", "first 2024-01-03",
                                                "second 2024-01-01", "second 2024-01-02", "second 2024-01-03"])
        XCTAssertEqual(h.lines("ledger").count, 6, "every task ran to success once")
        XCTAssertFalse(FileManager.default.fileExists(atPath: h.home.appendingPathComponent("orchestrator.db").path),
                       "no SQLite store was made")
        func scalar(_ sql: String) throws -> String { try psql(databaseURL, sql).trimmingCharacters(in: .whitespacesAndNewlines) }
        XCTAssertEqual(try scalar("SELECT string_agg(state, ',' ORDER BY logical_date) FROM dag_runs"), "success,success,success")
        XCTAssertEqual(try scalar("SELECT count(*) FROM task_instances WHERE state = 'success'"), "6")
        XCTAssertEqual(try scalar("SELECT count(*) FROM task_attempts"), "7", "six tasks, one of them tried twice")
        XCTAssertEqual(try scalar("""
            SELECT string_agg(state, ',' ORDER BY try_number) FROM task_attempts WHERE task_id = 'second' AND run_id LIKE '%2024-01-02%'
            """), "up_for_retry,success")
        XCTAssertEqual(try scalar("SELECT count(*) FROM task_attempts WHERE ended_at IS NULL OR started_at IS NULL OR pid IS NULL"), "0")
    }

    /// The test database, owned by the one role scripts/test's server asks for a password: a URL that must authenticate.
    func passwordProtectedURL() throws -> String {
        try psql(serverURL, """
            DO $$ BEGIN
              IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'orchestrator_password_test') THEN
                CREATE ROLE orchestrator_password_test LOGIN PASSWORD 'right-horse-battery';
              END IF;
            END $$
            """)
        try psql(serverURL, "ALTER DATABASE \(database) OWNER TO orchestrator_password_test")
        let server = try XCTUnwrap(URLComponents(string: serverURL))
        return "postgres://orchestrator_password_test:right-horse-battery@\(server.host ?? "127.0.0.1"):\(server.port ?? 5432)/\(database)"
    }

    func testTheDaemonRunsTasksAndSensorsOnAPasswordProtectedStore() throws {
        let h = try Harness()
        let url = try passwordProtectedURL()
        h.extraEnvironment["ORCHESTRATOR_STORE"] = url
        try writeLedgerDag(h, schedule: "null")
        // The sensor's `orchestrator sense` reads the store itself, with the password the worker got.
        try h.writeDag("waiting", """
            dag_id: waiting
            schedule: null
            start_date: 2024-01-01
            tasks:
              - id: for_ledger
                sensor: { external_task: { dag: ledger, task: second }, poke_interval: 1s, timeout: 60s }
              - id: after
                depends_on: [for_ledger]
                command: echo "after {{ ds }}${PGPASSWORD:+ saw-the-store-password}" >> "$WORK/ledger"
            """)
        try h.startDaemon()
        XCTAssertEqual(try h.run(["trigger", "waiting", "--date", "2024-03-01"]).status, 0)
        XCTAssertEqual(try h.run(["trigger", "ledger", "--date", "2024-03-01"]).status, 0)
        try h.waitFor("both runs to succeed", timeout: 90) {
            try h.runStates(dag: "ledger") == ["success"] && h.runStates(dag: "waiting") == ["success"]
        }
        XCTAssertEqual(h.lines("ledger"), ["first 2024-03-01", "second 2024-03-01", "after 2024-03-01"])
        let log = try h.run(["logs", "ledger", "first", "--date", "2024-03-01"])
        XCTAssertTrue(log.stdout.contains("attempt 1 ended success"), log.stdout + log.stderr)
        XCTAssertFalse(h.daemonLogText.contains("right-horse-battery"), "the daemon's log never shows the store's password")
        XCTAssertFalse(FileManager.default.fileExists(atPath: h.home.appendingPathComponent("orchestrator.db").path))
        XCTAssertEqual(h.stopDaemon(), 0)
    }
}
