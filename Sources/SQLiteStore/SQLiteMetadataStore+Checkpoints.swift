import Foundation
import GRDB

extension SQLiteMetadataStore {
    /// Copies the WAL back into the database file every `interval` seconds on a thread of its own, with a
    /// connection of its own. Connections do not checkpoint by themselves (`wal_autocheckpoint = 0`): a
    /// checkpoint's fsyncs took 20-30 ms inside whichever commit crossed the threshold, often a worker's.
    /// Started by whoever runs a scheduler; a PASSIVE checkpoint never blocks readers or writers.
    public func startBackgroundCheckpoints(interval: TimeInterval = 1) {
        let path = self.path
        let thread = Thread {
            var config = Configuration()
            config.busyMode = .timeout(1)
            guard let queue = try? DatabaseQueue(path: path, configuration: config) else { return }
            while true {
                Thread.sleep(forTimeInterval: interval)
                _ = try? queue.writeWithoutTransaction { db in try db.checkpoint(.passive) }
            }
        }
        thread.name = "store-checkpoints"
        thread.start()
    }
}
