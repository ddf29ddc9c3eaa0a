import Foundation
import MetadataStore
import SQLiteStore
import XCTest
import GRDB

/// The WAL stays bounded under a writer that never pauses and a reader that never stops: the background checkpoints
/// truncate it, where PASSIVE checkpoints alone let it grow for as long as the writes went on.
final class WALTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("wal-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        if let directory { try? FileManager.default.removeItem(at: directory) }
    }

    func testCheckpointsKeepTheWALSmallUnderContinuousWritesAndReads() throws {
        // The same load twice: checkpoints that never truncate (what the store did before), then the store's own.
        let unchecked = try workload("unchecked", truncateAbove: .max / 2)
        let threshold = 256 << 10
        let checked = try workload("checked", truncateAbove: threshold)
        XCTAssertEqual(unchecked.counts.truncations, 0)
        XCTAssertGreaterThan(checked.counts.truncations, 3, "\(checked.counts)")
        XCTAssertGreaterThan(unchecked.peak, 8 << 20, "the load is enough to grow an unchecked WAL well past the threshold")
        // An unchecked WAL only ever grows; the checked one is cut back again and again while the writer goes on.
        XCTAssertEqual(unchecked.shrinks, 0)
        XCTAssertGreaterThan(checked.shrinks, 2, "\(checked.counts)")
        // The truncated WAL peaks at a fraction of what was written to it (the growth seen between looks, a lower
        // bound); one never cut back holds all of it. Three quarters, not a half: on a busy machine the checkpoint
        // thread gets fewer turns in the 1.5 s (a fresh-clone run saw 4 truncations and a peak of 66 %).
        XCTAssertEqual(unchecked.peak, unchecked.appended)
        XCTAssertLessThan(checked.peak, checked.appended / 4 * 3,
                          "checked: peak \(checked.peak) bytes of \(checked.appended) written in \(checked.runs) runs, \(checked.counts)")
        XCTAssertLessThanOrEqual(checked.final, threshold * 8, "once the writer stops the WAL is soon cut back")
        XCTAssertEqual(unchecked.final, unchecked.peak)
    }

    func testAWriterFasterThanTheCheckpointsIsHeldUnderTheLimit() throws {
        // No checkpoint thread at all: only the writer's own back-pressure keeps the WAL in bounds.
        let path = directory.appendingPathComponent("alone.sqlite").path
        let store = try SQLiteMetadataStore(path: path)
        let start = Date(timeIntervalSince1970: 1_704_067_200)
        var peak = 0
        // 3,000 runs of 5 task instances write over 100 MB of WAL (about 40 kB a run).
        for index in 0..<3000 {
            let logical = start.addingTimeInterval(Double(index) * 3600)
            let runId = DagRun.makeRunId(type: .backfill, logicalDate: logical)
            let run = DagRun(dagId: "etl", runId: runId, logicalDate: logical, dataIntervalStart: logical,
                             dataIntervalEnd: logical.addingTimeInterval(3600), runType: .backfill, state: .queued, createdAt: logical)
            let instances = (1...5).map {
                TaskInstance(key: TaskKey(dagId: "etl", runId: runId, taskId: "t\($0)"), maxTries: 1, pool: "default_pool", priorityWeight: 1)
            }
            XCTAssertTrue(try store.createRun(run, taskInstances: instances))
            peak = max(peak, Self.size(path + "-wal"))
        }
        XCTAssertGreaterThan(peak, 32 << 20, "the writer reached the back-pressure threshold")
        XCTAssertLessThanOrEqual(peak, SQLiteMetadataStore.walSizeLimit, "peak WAL \(peak) bytes")
        XCTAssertEqual(try store.runs(RunFilter(dagId: "etl")).count, 3000)
    }

    func testACheckpointThreadThatCannotOpenTheStoreRetriesAndSaysWhy() throws {
        // The store's folder is moved away after the store opened it: the thread's own connection cannot open the path.
        let folder = directory.appendingPathComponent("moved")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let path = folder.appendingPathComponent("store.sqlite").path
        let store = try SQLiteMetadataStore(path: path)
        let aside = directory.appendingPathComponent("aside")
        try FileManager.default.moveItem(at: folder, to: aside)
        let checkpoints = store.startBackgroundCheckpoints(interval: 0.05, truncateAbove: 64 << 10)
        defer { checkpoints.stop() }
        let failing = Date().addingTimeInterval(10)
        while checkpoints.snapshot.openFailures < 2 && Date() < failing { Thread.sleep(forTimeInterval: 0.02) }
        XCTAssertGreaterThanOrEqual(checkpoints.snapshot.openFailures, 2, "the thread keeps trying instead of ending")
        XCTAssertNotNil(checkpoints.snapshot.openError)
        // Back in place, the thread opens it and truncates the WAL the writer grows.
        try FileManager.default.moveItem(at: aside, to: folder)
        let start = Date(timeIntervalSince1970: 1_704_067_200)
        for index in 0..<100 {
            let logical = start.addingTimeInterval(Double(index) * 3600)
            let runId = DagRun.makeRunId(type: .scheduled, logicalDate: logical)
            let run = DagRun(dagId: "etl", runId: runId, logicalDate: logical, dataIntervalStart: logical,
                             dataIntervalEnd: logical.addingTimeInterval(3600), runType: .scheduled, state: .queued, createdAt: logical)
            XCTAssertTrue(try store.createRun(run, taskInstances: [TaskInstance(key: TaskKey(dagId: "etl", runId: runId, taskId: "t"),
                                                                               maxTries: 1, pool: "default_pool", priorityWeight: 1)]))
        }
        let recovering = Date().addingTimeInterval(10)
        while checkpoints.snapshot.truncations == 0 && Date() < recovering { Thread.sleep(forTimeInterval: 0.02) }
        XCTAssertNil(checkpoints.snapshot.openError, "\(checkpoints.snapshot)")
        XCTAssertGreaterThan(checkpoints.snapshot.truncations, 0, "\(checkpoints.snapshot)")
    }

    func testAReaderInTheWALDoesNotStallTheWriterTruncatingIt() throws {
        // A reader keeps a snapshot open, so no TRUNCATE can finish: the writer's own truncation past 48 MB gives
        // up quickly instead of waiting out its 30 s busy limit on every commit, with the write lock held.
        let path = directory.appendingPathComponent("held.sqlite").path
        let store = try SQLiteMetadataStore(path: path)
        var held = Configuration()
        held.allowsUnsafeTransactions = true  // the snapshot stays open across accesses
        let reader = try DatabaseQueue(path: path, configuration: held)
        try reader.inDatabase { db in
            try db.execute(sql: "BEGIN")
            _ = try Int.fetchOne(db, sql: "SELECT count(*) FROM dag_runs")
        }
        defer { try? reader.inDatabase { db in try db.execute(sql: "ROLLBACK") } }
        let start = Date(timeIntervalSince1970: 1_704_067_200)
        var slowest = 0.0, pastThreshold = 0, index = 0
        while pastThreshold < 20 && index < 6000 {
            let logical = start.addingTimeInterval(Double(index) * 3600)
            let runId = DagRun.makeRunId(type: .backfill, logicalDate: logical)
            let run = DagRun(dagId: "etl", runId: runId, logicalDate: logical, dataIntervalStart: logical,
                             dataIntervalEnd: logical.addingTimeInterval(3600), runType: .backfill, state: .queued, createdAt: logical)
            let instances = (1...5).map {
                TaskInstance(key: TaskKey(dagId: "etl", runId: runId, taskId: "t\($0)"), maxTries: 1, pool: "default_pool", priorityWeight: 1)
            }
            let began = Date()
            XCTAssertTrue(try store.createRun(run, taskInstances: instances))
            slowest = max(slowest, Date().timeIntervalSince(began))
            if Self.size(path + "-wal") > SQLiteMetadataStore.walBackPressureThreshold { pastThreshold += 1 }
            index += 1
            if slowest > 5 { break }
        }
        XCTAssertEqual(pastThreshold, 20, "the WAL passed the back-pressure threshold (reached after \(index) runs)")
        XCTAssertLessThan(slowest, 5, "a commit past the threshold waited out the busy limit for the reader")
    }

    struct Outcome {
        var runs = 0, peak = 0, final = 0
        /// Times the WAL was seen smaller than at the previous look, and the sum of its growth between looks.
        var shrinks = 0, appended = 0
        var counts = BackgroundCheckpoints.Counts()
    }

    /// Writes runs of 5 task instances as fast as one connection can for 1.5 s (or until the WAL reaches 40 MB) while
    /// another connection reads.
    func workload(_ name: String, truncateAbove: Int) throws -> Outcome {
        let path = directory.appendingPathComponent("\(name).sqlite").path
        let store = try SQLiteMetadataStore(path: path)
        let pages = try SQLiteMetadataStore(path: path, readOnly: true)
        let checkpoints = store.startBackgroundCheckpoints(interval: 0.05, truncateAbove: truncateAbove)
        defer { checkpoints.stop() }
        let stop = Flag()
        let reader = Thread {
            while !stop.isSet { _ = try? pages.runs(RunFilter(dagId: "etl", newestFirst: true, limit: 25)) }
        }
        reader.start()
        defer { stop.set() }
        var outcome = Outcome()
        let start = Date(timeIntervalSince1970: 1_704_067_200)
        let deadline = Date().addingTimeInterval(1.5)
        var last = 0
        // Stopped below the writers' own back-pressure threshold, so the unchecked WAL is truly left alone.
        while Date() < deadline && outcome.peak < 40 << 20 {
            let logical = start.addingTimeInterval(Double(outcome.runs) * 3600)
            let runId = DagRun.makeRunId(type: .scheduled, logicalDate: logical)
            let run = DagRun(dagId: "etl", runId: runId, logicalDate: logical, dataIntervalStart: logical,
                             dataIntervalEnd: logical.addingTimeInterval(3600), runType: .scheduled, state: .queued, createdAt: logical)
            let instances = (1...5).map {
                TaskInstance(key: TaskKey(dagId: "etl", runId: runId, taskId: "t\($0)"), maxTries: 1, pool: "default_pool", priorityWeight: 1)
            }
            XCTAssertTrue(try store.createRun(run, taskInstances: instances))
            outcome.runs += 1
            let size = Self.size(path + "-wal")
            if size < last { outcome.shrinks += 1 } else { outcome.appended += size - last }
            last = size
            outcome.peak = max(outcome.peak, size)
        }
        stop.set()
        Thread.sleep(forTimeInterval: 0.5)
        outcome.final = Self.size(path + "-wal")
        outcome.counts = checkpoints.snapshot
        XCTAssertEqual(try store.runs(RunFilter(dagId: "etl")).count, outcome.runs, "every run survived the checkpoints")
        return outcome
    }

    static func size(_ path: String) -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: path)[.size]) as? NSNumber)?.intValue ?? 0
    }
}

private final class Flag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    var isSet: Bool { lock.withLock { value } }
    func set() { lock.withLock { value = true } }
}
