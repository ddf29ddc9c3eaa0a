import Foundation

/// Backfills: a date range of one DAG and the runs it owns, with its own run limit.
public protocol BackfillStore: Sendable {
    func createBackfill(dagId: String, start: Date, end: Date, maxActiveRuns: Int, at time: Date) throws -> Int64
    func backfill(id: Int64) throws -> Backfill?
    /// A DAG's backfills, newest first.
    func backfills(dagId: String) throws -> [Backfill]
    /// Moves existing runs into a backfill, so they count against its run limit.
    func assignRuns(dagId: String, runIds: [String], toBackfill id: Int64) throws
}
