import Foundation

/// DuckDB lets one process at a time open a database file for writing, and a second one fails at once with
/// "Could not set lock on file". The library's DuckDB work on one file is serialized by an flock on
/// `<database>.lock` beside it, taken with a bounded wait: two tasks writing one warehouse run one after the
/// other instead of failing. The kernel drops the lock when the process dies, so a killed task never leaves it.
final class DuckDBFileLock {
    let path: String
    private var fd: Int32 = -1

    /// How long a task waits for another one's work on the same file (`ORCHESTRATOR_DUCKDB_LOCK_TIMEOUT`, seconds).
    static func waitLimit(environment: [String: String] = ProcessInfo.processInfo.environment) -> TimeInterval {
        environment["ORCHESTRATOR_DUCKDB_LOCK_TIMEOUT"].flatMap(Double.init).map { max(0, $0) } ?? 600
    }

    init(database: String) {
        path = database + ".lock"
    }

    deinit { release() }

    /// Waits up to `limit` seconds for the lock; `onWait` is called once when another process holds it.
    func acquire(limit: TimeInterval, onWait: (() -> Void)? = nil) throws(TransformError) {
        guard fd < 0 else { return }
        let folder = (path as NSString).deletingLastPathComponent
        try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let opened = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard opened >= 0 else {
            throw TransformError("cannot open the DuckDB lock file \(path): \(String(cString: strerror(errno)))")
        }
        let deadline = Date().addingTimeInterval(limit)
        var announced = false
        while flock(opened, LOCK_EX | LOCK_NB) != 0 {
            guard errno == EWOULDBLOCK || errno == EINTR else {
                let reason = String(cString: strerror(errno))
                close(opened)
                throw TransformError("cannot lock \(path): \(reason)")
            }
            if Date() >= deadline {
                close(opened)
                throw TransformError("another task has been using \((path as NSString).deletingPathExtension) for more than \(Int(limit)) s (lock \(path)); gave up waiting (ORCHESTRATOR_DUCKDB_LOCK_TIMEOUT)")
            }
            if !announced { announced = true; onWait?() }
            usleep(50_000)
        }
        fd = opened
    }

    func release() {
        guard fd >= 0 else { return }
        flock(fd, LOCK_UN)
        close(fd)
        fd = -1
    }
}
