import Foundation

/// How many 100 µs waits a connection's busy handler allows, changeable for one call: a TRUNCATE checkpoint holds
/// the write lock while it waits for readers to leave the WAL, so it gets a short limit where ordinary writes keep
/// their long one.
final class BusyLimit: @unchecked Sendable {
    private let lock = NSLock()
    private var tries: Int
    /// The waits a TRUNCATE checkpoint may spend on readers: 20 ms, then it gives up and is tried again later.
    static let truncateTries = 200

    init(tries: Int) { self.tries = tries }

    var current: Int { lock.withLock { tries } }

    /// The handler for GRDB's `busyMode`: retries every 100 µs up to the current limit.
    func shouldRetry(_ attempt: Int) -> Bool {
        guard attempt < current else { return false }
        usleep(100)
        return true
    }

    /// Runs `body` with the limit lowered to `tries`, restoring it afterwards.
    func lowered<T>(to tries: Int, _ body: () throws -> T) rethrows -> T {
        let previous = lock.withLock { () -> Int in
            defer { self.tries = tries }
            return self.tries
        }
        defer { lock.withLock { self.tries = previous } }
        return try body()
    }
}

extension SQLiteMetadataStore {
    /// Runs `body` with this store's busy limit lowered to `tries` waits of 100 µs (for tests of lock conflicts).
    public func withBusyLimit<T>(tries: Int, _ body: () throws -> T) rethrows -> T {
        try busyLimit.lowered(to: tries, body)
    }
}
