import Foundation
import GRDB
import MetadataStore

extension SQLiteMetadataStore {
    /// The WAL size above which the background thread truncates it (after its PASSIVE pass has copied nearly all of it).
    public static let walTruncateThreshold = 8 << 20
    /// No connection leaves a WAL bigger than this behind when it restarts it (`PRAGMA journal_size_limit`).
    public static let walSizeLimit = 64 << 20
    /// Past this size the writer itself truncates the WAL after its commit (see `truncateOverfullWAL`).
    public static let walBackPressureThreshold = 48 << 20

    /// Back-pressure for writers faster than any checkpoint thread: a backfill creating 8,760 runs wrote 120 MB of
    /// WAL a second, and the WAL peaked at 148 MB with the thread truncating it every pass. Past 48 MB the
    /// scheduler's (or CLI's) own connection truncates it after its commit, so the WAL stays under 64 MB. The
    /// thread keeps it far below that in normal operation, so this costs nothing there; a worker never pays it.
    func truncateOverfullWAL(_ db: Database) {
        var info = stat()
        guard stat(walPath, &info) == 0, Int(info.st_size) > Self.walBackPressureThreshold else { return }
        // A reader in the WAL would otherwise hold this writer, and every other one, for the busy limit (30 s).
        busyLimit.lowered(to: BusyLimit.truncateTries) { _ = try? db.checkpoint(.truncate) }
    }

    var walPath: String { path + "-wal" }

    /// Copies the WAL back into the database file every `interval` seconds on a thread of its own, with a
    /// connection of its own. Connections do not checkpoint by themselves (`wal_autocheckpoint = 0`): a
    /// checkpoint's fsyncs took 20-30 ms inside whichever commit crossed the threshold, often a worker's.
    /// Started by whoever runs a scheduler.
    ///
    /// A PASSIVE checkpoint never blocks readers or writers, but under a continuous backfill it never finishes
    /// either: every second brings new frames, so no writer ever finds the WAL fully copied and restarts it, and the
    /// file grew without bound (2.1 GB after 43,800 task instances). So once the WAL passes `truncateAbove` bytes, a
    /// TRUNCATE checkpoint follows the PASSIVE one: it holds writers off only while it copies the few frames written
    /// since, waits (20 ms at most, `BusyLimit.truncateTries`) for readers to leave the WAL, and cuts the file to
    /// zero. If readers stay, it tries again on the next pass.
    @discardableResult
    public func startBackgroundCheckpoints(interval: TimeInterval = 1, truncateAbove: Int = walTruncateThreshold) -> BackgroundCheckpoints {
        let checkpoints = BackgroundCheckpoints(path: path, interval: interval, truncateAbove: truncateAbove)
        checkpoints.start()
        return checkpoints
    }
}

extension SQLiteMetadataStore: BackgroundMaintenance {
    public func startBackgroundMaintenance() { startBackgroundCheckpoints() }
}
