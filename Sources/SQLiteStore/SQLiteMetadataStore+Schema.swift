import GRDB

extension SQLiteMetadataStore {
    /// Versioned schema: add a new migration for every change, never edit a released one.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE dags (
                    dag_id TEXT PRIMARY KEY,
                    is_paused INTEGER NOT NULL DEFAULT 0,
                    file_location TEXT,
                    is_active INTEGER NOT NULL DEFAULT 1,
                    updated_at REAL
                );
                CREATE TABLE import_errors (file TEXT PRIMARY KEY, message TEXT NOT NULL, updated_at REAL);
                CREATE TABLE backfills (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    dag_id TEXT NOT NULL,
                    start REAL NOT NULL,
                    end REAL NOT NULL,
                    max_active_runs INTEGER NOT NULL,
                    created_at REAL NOT NULL
                );
                CREATE TABLE dag_runs (
                    dag_id TEXT NOT NULL,
                    run_id TEXT NOT NULL,
                    logical_date REAL NOT NULL,
                    data_interval_start REAL NOT NULL,
                    data_interval_end REAL NOT NULL,
                    run_type TEXT NOT NULL,
                    state TEXT NOT NULL,
                    params TEXT NOT NULL DEFAULT '{}',
                    backfill_id INTEGER REFERENCES backfills(id),
                    created_at REAL NOT NULL,
                    started_at REAL,
                    ended_at REAL,
                    PRIMARY KEY (dag_id, run_id),
                    UNIQUE (dag_id, logical_date)
                );
                CREATE INDEX dag_runs_by_state ON dag_runs(state, logical_date);
                CREATE INDEX dag_runs_by_backfill ON dag_runs(backfill_id);
                CREATE TABLE task_instances (
                    dag_id TEXT NOT NULL,
                    run_id TEXT NOT NULL,
                    task_id TEXT NOT NULL,
                    state TEXT NOT NULL,
                    try_number INTEGER NOT NULL DEFAULT 0,
                    max_tries INTEGER NOT NULL,
                    pool TEXT NOT NULL,
                    priority_weight INTEGER NOT NULL DEFAULT 1,
                    next_retry_at REAL,
                    pid INTEGER,
                    task_pid INTEGER,
                    hostname TEXT,
                    heartbeat_at REAL,
                    exit_code INTEGER,
                    signal INTEGER,
                    queued_at REAL,
                    started_at REAL,
                    ended_at REAL,
                    duration REAL,
                    note TEXT,
                    PRIMARY KEY (dag_id, run_id, task_id),
                    FOREIGN KEY (dag_id, run_id) REFERENCES dag_runs(dag_id, run_id) ON DELETE CASCADE
                );
                CREATE INDEX task_instances_by_state ON task_instances(state);
                CREATE TABLE task_attempts (
                    dag_id TEXT NOT NULL,
                    run_id TEXT NOT NULL,
                    task_id TEXT NOT NULL,
                    try_number INTEGER NOT NULL,
                    state TEXT NOT NULL,
                    hostname TEXT,
                    pid INTEGER,
                    started_at REAL,
                    ended_at REAL,
                    exit_code INTEGER,
                    signal INTEGER,
                    note TEXT,
                    PRIMARY KEY (dag_id, run_id, task_id, try_number)
                );
                CREATE TABLE pools (name TEXT PRIMARY KEY, slots INTEGER NOT NULL);
                INSERT INTO pools (name, slots) VALUES ('default_pool', 128);
                """)
        }
        migrator.registerMigration("v2-notification-outbox") { db in
            try db.execute(sql: """
                CREATE TABLE notifications (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    event_key TEXT NOT NULL,
                    target TEXT NOT NULL,
                    payload TEXT NOT NULL,
                    state TEXT NOT NULL DEFAULT 'pending',
                    attempts INTEGER NOT NULL DEFAULT 0,
                    next_attempt_at REAL,
                    last_error TEXT,
                    created_at REAL NOT NULL,
                    updated_at REAL,
                    UNIQUE (event_key, target)
                );
                CREATE INDEX notifications_due ON notifications(state, next_attempt_at);
                """)
        }
        migrator.registerMigration("v3-sla-misses") { db in
            try db.execute(sql: """
                CREATE TABLE sla_misses (
                    dag_id TEXT NOT NULL,
                    run_id TEXT NOT NULL,
                    task_id TEXT NOT NULL DEFAULT '',
                    deadline REAL NOT NULL,
                    detected_at REAL NOT NULL,
                    PRIMARY KEY (dag_id, run_id, task_id)
                );
                """)
        }
        migrator.registerMigration("v4-nodes") { db in
            try db.execute(sql: """
                CREATE TABLE nodes (
                    name TEXT PRIMARY KEY,
                    started_at REAL NOT NULL,
                    last_heartbeat REAL NOT NULL,
                    version TEXT NOT NULL,
                    pid INTEGER NOT NULL
                );
                """)
        }
        // Where other nodes reach the node's web server, for the logs of its attempts (docs/decisions/0014).
        migrator.registerMigration("v5-node-addresses") { db in
            try db.execute(sql: "ALTER TABLE nodes ADD COLUMN address TEXT")
        }
        // The same index as PostgreSQL's v6-dispatch-claims: startRun counts a backfill's running runs. (PostgreSQL's
        // claim function has no SQLite counterpart: there a claim is one BEGIN IMMEDIATE transaction in-process.)
        migrator.registerMigration("v6-dispatch-claims") { db in
            try db.execute(sql: """
                CREATE INDEX dag_runs_by_backfill_state ON dag_runs(backfill_id, state);
                DROP INDEX IF EXISTS dag_runs_by_backfill;
                """)
        }
        return migrator
    }
}
