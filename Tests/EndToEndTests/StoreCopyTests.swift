import Foundation
import GRDB
import XCTest

/// `orchestrator db copy|check|migrate` with the real binary: a SQLite history made by a real backfill moves into the
/// PostgreSQL server scripts/test starts, and the CLI reads the same history back from there.
final class StoreCopyTests: PostgresTestCase {
    func testABackfillHistoryCopiedIntoPostgreSQLReadsBackTheSame() throws {
        let h = try Harness()
        try h.writeDag("ledger", """
            dag_id: ledger
            schedule: "@daily"
            start_date: 2024-01-01
            catchup: false
            tasks:
              - id: first
                command: echo "first {{ ds }}" >> "$WORK/ledger"
              - id: flaky
                depends_on: [first]
                retries: 1
                retry_delay: 0s
                # Fails on its first try for 2024-01-02 only, so that instance has two attempts.
                command: if [ "{{ ds }}" = 2024-01-02 ] && [ ! -e "$WORK/retried" ]; then touch "$WORK/retried"; exit 3; fi
            """)
        XCTAssertEqual(try h.run(["pools", "set", "warehouse", "3"]).status, 0)
        let backfill = try h.run(["backfill", "ledger", "--start", "2024-01-01", "--end", "2024-01-04"])
        XCTAssertEqual(backfill.status, 0, backfill.stderr)
        let sqliteRuns = try h.runs(dag: "ledger")
        let sqliteTasks = try h.tasks(dag: "ledger", date: "2024-01-02")
        let sqlitePath = h.home.appendingPathComponent("orchestrator.db").path

        let copy = try h.run(["db", "copy", "--from", "sqlite://" + sqlitePath, "--to", databaseURL])
        XCTAssertEqual(copy.status, 0, copy.stderr)
        XCTAssertFalse((copy.stdout + copy.stderr).contains("Sup3rSecretPw"), copy.stdout)
        XCTAssertTrue(copy.stdout.contains("4 dag_runs, 8 task_instances, 9 task_attempts"), copy.stdout)

        // Counts on the server, read with psql, against the same counts read from the SQLite file.
        let source = try DatabaseQueue(path: sqlitePath)
        for table in ["dags", "backfills", "dag_runs", "task_instances", "task_attempts", "pools", "notifications", "sla_misses"] {
            let expected = try source.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM \(table)") } ?? -1
            XCTAssertEqual(try psql(databaseURL, "SELECT count(*) FROM \(table)").trimmingCharacters(in: .whitespacesAndNewlines),
                           String(expected), table)
        }
        XCTAssertEqual(try psql(databaseURL, "SELECT slots FROM pools WHERE name = 'warehouse'").trimmingCharacters(in: .whitespacesAndNewlines), "3")
        let startedInSQLite = try source.read {
            try Double.fetchOne($0, sql: "SELECT started_at FROM task_attempts WHERE task_id = 'flaky' AND try_number = 1 AND run_id LIKE '%2024-01-02%'")
        }
        let startedInPostgres = try psql(databaseURL, "SELECT started_at FROM task_attempts WHERE task_id = 'flaky' AND try_number = 1 AND run_id LIKE '%2024-01-02%'")
        XCTAssertEqual(Double(startedInPostgres.trimmingCharacters(in: .whitespacesAndNewlines)), startedInSQLite, "times move bit for bit")

        // The CLI on the PostgreSQL store shows the history the SQLite store showed.
        h.extraEnvironment["ORCHESTRATOR_STORE"] = databaseURL
        let postgresRuns = try h.runs(dag: "ledger")
        XCTAssertEqual(postgresRuns.count, 4)
        XCTAssertEqual(postgresRuns.map { $0["run_id"] as? String }, sqliteRuns.map { $0["run_id"] as? String })
        XCTAssertEqual(postgresRuns.map { $0["state"] as? String }, sqliteRuns.map { $0["state"] as? String })
        let postgresTasks = try h.tasks(dag: "ledger", date: "2024-01-02")
        XCTAssertEqual(postgresTasks["flaky"]?["try_number"] as? Int, 2)
        XCTAssertEqual(postgresTasks["flaky"]?["try_number"] as? Int, sqliteTasks["flaky"]?["try_number"] as? Int)
        XCTAssertEqual(postgresTasks["flaky"]?["state"] as? String, "success")
        XCTAssertEqual(try h.run(["db", "check"]).status, 0)

        // A second copy is refused (the target has a history), in one line without the password; --force replaces it.
        let again = try h.run(["db", "copy", "--from", "sqlite://" + sqlitePath, "--to", databaseURL])
        XCTAssertNotEqual(again.status, 0)
        XCTAssertTrue(again.stderr.contains("--force"), again.stderr)
        XCTAssertFalse(again.stderr.contains("Sup3rSecretPw"), again.stderr)
        let forced = try h.run(["db", "copy", "--from", "sqlite://" + sqlitePath, "--to", databaseURL, "--force"])
        XCTAssertEqual(forced.status, 0, forced.stderr)
        XCTAssertEqual(try psql(databaseURL, "SELECT count(*) FROM task_instances").trimmingCharacters(in: .whitespacesAndNewlines), "8")
    }

    func testWrongPasswordUnreachablePortAndAnOldSchemaEachGiveOneMaskedLine() throws {
        let h = try Harness()
        // scripts/test's server asks this one role (and no other) for its password.
        try psql(serverURL, """
            DO $$ BEGIN
              IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'orchestrator_password_test') THEN
                CREATE ROLE orchestrator_password_test LOGIN PASSWORD 'right-horse-battery';
              END IF;
            END $$
            """)
        let server = try XCTUnwrap(URLComponents(string: serverURL))
        let hostPort = "\(server.host ?? "127.0.0.1"):\(server.port ?? 5432)"
        let cases: [(url: String, says: String)] = [
            ("postgres://orchestrator_password_test:Wr0ngSecretPw@\(hostPort)/\(database)", "wrong user or password"),
            ("postgres://someone:Wr0ngSecretPw@127.0.0.1:1/\(database)", "unreachable"),
            (databaseURL, "run orchestrator db migrate"),
        ]
        // In the environment: a password in --store is warned about, on a line of its own.
        for (url, says) in cases {
            h.extraEnvironment["ORCHESTRATOR_STORE"] = url
            let check = try h.run(["db", "check"])
            XCTAssertNotEqual(check.status, 0, url)
            let lines = check.stderr.split(separator: "\n")
            XCTAssertEqual(lines.count, 1, check.stderr)
            XCTAssertTrue(check.stderr.contains(says), check.stderr)
            XCTAssertFalse(check.stderr.contains("Wr0ngSecretPw") || check.stderr.contains("Sup3rSecretPw"), check.stderr)
            XCTAssertTrue(check.stderr.contains(":***@"), check.stderr)
        }
        let migrate = try h.run(["db", "migrate", "--store", databaseURL])
        XCTAssertEqual(migrate.status, 0, migrate.stderr)
        XCTAssertTrue(migrate.stdout.contains("applied v1, v2-notification-outbox, v3-sla-misses"), migrate.stdout)
        XCTAssertEqual(try h.run(["db", "check", "--store", databaseURL]).status, 0)
        // A schema from a newer binary.
        try psql(databaseURL, "INSERT INTO schema_migrations (name, applied_order) VALUES ('v99-next', 99)")
        h.extraEnvironment["ORCHESTRATOR_STORE"] = databaseURL
        let tooNew = try h.run(["db", "check"])
        XCTAssertNotEqual(tooNew.status, 0)
        XCTAssertTrue(tooNew.stderr.contains("newer than this binary"), tooNew.stderr)
        XCTAssertEqual(tooNew.stderr.split(separator: "\n").count, 1, tooNew.stderr)
    }
}
