import Foundation
import WorkerCore

/// One `AttemptChannelServer` per process, whatever number of schedulers it runs in turn (a backfill that hands over
/// and takes the lock back): one serving thread and one store connection, and the channels of a scheduler that stepped
/// down are still answered while its workers run.
enum AttemptChannels {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var shared: AttemptChannelServer?

    static func server(opening open: @escaping AttemptChannelServer.Opener) -> AttemptChannelServer? {
        lock.withLock {
            if shared == nil { shared = AttemptChannelServer(open: open) }
            return shared
        }
    }
}
