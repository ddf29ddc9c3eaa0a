import Foundation
import GRDB

/// The store's checkpoint thread (see `SQLiteMetadataStore.startBackgroundCheckpoints`), with what it has done so far.
public final class BackgroundCheckpoints: @unchecked Sendable {
    public struct Counts: Sendable, Equatable {
        /// TRUNCATE checkpoints that emptied the WAL.
        public var truncations = 0
        /// TRUNCATE checkpoints that gave up on readers still in the WAL (retried on the next pass).
        public var busy = 0
        /// Tries to open the thread's connection that failed (retried every interval, so the WAL is not left unchecked).
        public var openFailures = 0
        /// Why the last try to open failed; nil once the connection is open.
        public var openError: String?
        public init() {}
    }

    let path: String
    let interval: TimeInterval
    let truncateAbove: Int
    private let lock = NSLock()
    private var counts = Counts()
    private var stopped = false
    /// 1 s for the write lock, lowered while a TRUNCATE waits for readers with the write lock held.
    private let busyLimit = BusyLimit(tries: 10_000)

    init(path: String, interval: TimeInterval, truncateAbove: Int) {
        self.path = path
        self.interval = interval
        self.truncateAbove = truncateAbove
    }

    public var snapshot: Counts { lock.withLock { counts } }

    /// Ends the thread after its current pass (tests; a daemon's thread lives as long as the process).
    public func stop() { lock.withLock { stopped = true } }

    func start() {
        let thread = Thread { [self] in
            var config = Configuration()
            // Poll for the write lock as often as the writers do (SQLiteMetadataStore.init): with SQLite's own 1-100 ms
            // sleeps, busy writers always got the lock first and a TRUNCATE waited out its whole second.
            config.busyMode = .callback { [busyLimit] tries in busyLimit.shouldRetry(tries) }
            config.prepareDatabase { db in
                try db.execute(sql: "PRAGMA journal_size_limit = \(SQLiteMetadataStore.walSizeLimit)")
            }
            // An unusable connection must not end the thread quietly: nothing would checkpoint again. Retry, and say so.
            var opened: DatabaseQueue?
            while opened == nil, !lock.withLock({ stopped }) {
                do {
                    opened = try DatabaseQueue(path: path, configuration: config)
                    lock.withLock { counts.openError = nil }
                } catch {
                    let first = lock.withLock { () -> Bool in
                        counts.openFailures += 1
                        counts.openError = "\(error)"
                        return counts.openFailures == 1
                    }
                    if first { warn("store checkpoints cannot open the database; retrying every \(interval)s", error: "\(error)") }
                    Thread.sleep(forTimeInterval: interval)
                }
            }
            guard let queue = opened else { return }
            var behind = false
            while !lock.withLock({ stopped }) {
                // Still over the threshold after a pass (a slow fsync, readers in the way): try again soon.
                Thread.sleep(forTimeInterval: behind ? min(interval, 0.05) : interval)
                behind = pass(queue)
            }
        }
        thread.name = "store-checkpoints"
        thread.start()
    }

    /// One PASSIVE checkpoint, then a TRUNCATE if the WAL is over the threshold; true if it still is.
    @discardableResult
    func pass(_ queue: DatabaseQueue) -> Bool {
        _ = try? queue.writeWithoutTransaction { db in try db.checkpoint(.passive) }
        guard walSize() > truncateAbove else { return false }
        do {
            _ = try busyLimit.lowered(to: BusyLimit.truncateTries) {
                try queue.writeWithoutTransaction { db in try db.checkpoint(.truncate) }
            }
            lock.withLock { counts.truncations += 1 }
        } catch {
            lock.withLock { counts.busy += 1 }
        }
        return walSize() > truncateAbove
    }

    /// One logfmt warning on stderr, where the daemon's and the CLI's own log lines go.
    func warn(_ message: String, error: String) {
        func quoted(_ text: String) -> String {
            "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
                .replacingOccurrences(of: "\n", with: "\\n") + "\""
        }
        let line = "level=warning msg=\(quoted(message)) path=\(quoted(path)) error=\(quoted(error))\n"
        FileHandle.standardError.write(Data(line.utf8))
    }

    func walSize() -> Int {
        var info = stat()
        return stat(path + "-wal", &info) == 0 ? Int(info.st_size) : 0
    }
}
