import Foundation
import GRDB
import MetadataStore
import SQLiteStore
import XCTest

final class SQLiteMetadataStoreTests: XCTestCase {
    private var directory: URL!
    private var path: String { directory.appendingPathComponent("home/store.sqlite").path }

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("store-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        if let directory { try? FileManager.default.removeItem(at: directory) }
    }

    // MARK: SQLite only (the behaviour every store shares is in StoreConformanceTests)

    private let t0 = Date(timeIntervalSince1970: 1_704_067_200)  // 2024-01-01T00:00:00Z

    @discardableResult
    private func insertRun(_ store: SQLiteMetadataStore) throws -> DagRun {
        let runId = DagRun.makeRunId(type: .scheduled, logicalDate: t0)
        let run = DagRun(dagId: "etl", runId: runId, logicalDate: t0, dataIntervalStart: t0, dataIntervalEnd: t0.addingTimeInterval(86_400),
                         runType: .scheduled, state: .queued, createdAt: t0.addingTimeInterval(86_400))
        let instances = ["extract", "load"].map {
            TaskInstance(key: TaskKey(dagId: "etl", runId: runId, taskId: $0), maxTries: 2, pool: "default_pool", priorityWeight: 1)
        }
        XCTAssertTrue(try store.createRun(run, taskInstances: instances))
        return run
    }

    func testMigrationsCreateTheSchemaAndReopeningKeepsData() throws {
        do {
            let store = try SQLiteMetadataStore(path: path)
            XCTAssertEqual(store.path, path)
            try insertRun(store)
        }
        let dbQueue = try DatabaseQueue(path: path)
        let tables = try dbQueue.read { db in
            try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
        }
        for table in ["backfills", "dag_runs", "dags", "import_errors", "nodes", "notifications", "pools", "sla_misses", "task_attempts", "task_instances"] {
            XCTAssertTrue(tables.contains(table), "missing table \(table) in \(tables)")
        }
        let migrations = try dbQueue.read { db in try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations") }
        XCTAssertEqual(migrations, ["v1", "v2-notification-outbox", "v3-sla-misses", "v4-nodes", "v5-node-addresses", "v6-dispatch-claims"])

        // Reopening migrates nothing again and sees what was written.
        let reopened = try SQLiteMetadataStore(path: path)
        let runs = try reopened.runs(RunFilter(dagId: "etl"))
        XCTAssertEqual(runs.count, 1)
        XCTAssertEqual(runs.first?.runId, "scheduled__2024-01-01T00:00:00Z")
        XCTAssertEqual(runs.first?.logicalDate, t0)
        XCTAssertEqual(try reopened.taskInstances(dagId: "etl", runId: runs[0].runId).map(\.key.taskId), ["extract", "load"])
        XCTAssertEqual(try reopened.pools(), ["default_pool": 128])
        XCTAssertEqual(try dbQueue.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM grdb_migrations") }, 6)
    }

    func testTheStoreIsInWALMode() throws {
        _ = try SQLiteMetadataStore(path: path)
        let dbQueue = try DatabaseQueue(path: path)
        let mode = try dbQueue.read { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") }
        XCTAssertEqual(mode?.lowercased(), "wal")
    }

    func testOpeningAnUnusableFileFails() throws {
        let bad = directory.appendingPathComponent("not-a-db.sqlite")
        try Data(repeating: 0x41, count: 4096).write(to: bad)
        XCTAssertThrowsError(try SQLiteMetadataStore(path: bad.path)) { error in
            XCTAssertTrue("\(error)".contains("cannot open the store at"), "\(error)")
        }
    }

    func testAStoreMigratedByANewerBinaryIsRefusedUntouched() throws {
        _ = try SQLiteMetadataStore(path: path)
        let dbQueue = try DatabaseQueue(path: path)
        try dbQueue.write { db in try db.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('v99-from-the-future')") }
        XCTAssertThrowsError(try SQLiteMetadataStore(path: path)) { error in
            XCTAssertEqual((error as? StoreError)?.kind, .schemaTooNew, "\(error)")
            XCTAssertTrue("\(error)".contains("cannot open the store at sqlite://\(path)"), "\(error)")
            XCTAssertTrue("\(error)".contains("newer than this binary"), "\(error)")
        }
        let migrations = try dbQueue.read { db in try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations ORDER BY identifier") }
        XCTAssertEqual(migrations, ["v1", "v2-notification-outbox", "v3-sla-misses", "v4-nodes", "v5-node-addresses", "v6-dispatch-claims", "v99-from-the-future"])
    }

    func testBusyAndLockedAreRetryableConflicts() throws {
        let store = try SQLiteMetadataStore(path: path)
        // Another connection holds the write lock past the writer's busy limit, lowered here to keep the test short.
        var configuration = Configuration()
        configuration.allowsUnsafeTransactions = true
        let holder = try DatabaseQueue(path: path, configuration: configuration)
        try holder.writeWithoutTransaction { db in try db.execute(sql: "BEGIN IMMEDIATE") }
        defer { try? holder.writeWithoutTransaction { db in try db.execute(sql: "ROLLBACK") } }
        XCTAssertThrowsError(try store.withBusyLimit(tries: 10) { try store.setPool(name: "db", slots: 1) }) { error in
            let storeError = error as? StoreError
            XCTAssertEqual(storeError?.kind, .conflict, "\(error)")
            XCTAssertEqual(storeError?.isRetryable, true)
            XCTAssertEqual(storeError?.operation, "set pool")
            XCTAssertEqual(storeError?.store, "sqlite://" + path)
        }
    }
}
