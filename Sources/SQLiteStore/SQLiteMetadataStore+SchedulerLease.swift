import Foundation
import MetadataStore
#if canImport(Glibc)
import Glibc
#endif

extension SQLiteMetadataStore {
    /// An SQLite file is shared only by processes of one machine, so a `flock` on the home's lock file is the lease:
    /// the kernel drops it when the holder dies, however it dies.
    public func acquireSchedulerLease(_ request: SchedulerLeaseRequest) throws -> any SchedulerLease {
        try FileSchedulerLease.acquire(request, store: location)
    }

    public func schedulerLeaseHolder(_ request: SchedulerLeaseRequest) -> Int32? {
        FileSchedulerLease.holder(request)
    }
}

/// A `flock` held on a lock file, with the holder's pid written beside it.
public final class FileSchedulerLease: SchedulerLease, @unchecked Sendable {
    private let lock = NSLock()
    private var descriptor: Int32
    private let pidPath: String

    init(descriptor: Int32, pidPath: String) {
        self.descriptor = descriptor
        self.pidPath = pidPath
    }

    deinit { release() }

    public func release() {
        lock.withLock {
            guard descriptor >= 0 else { return }
            unlink(pidPath)
            close(descriptor)
            descriptor = -1
        }
    }

    /// Takes the lock; throws `.leaseHeld` if a daemon or another backfill holds it.
    public static func acquire(_ request: SchedulerLeaseRequest, store: String) throws -> FileSchedulerLease {
        try? FileManager.default.createDirectory(atPath: request.home, withIntermediateDirectories: true)
        let fd = open(request.lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw StoreError(.unavailable, operation: "take the scheduler lock", store: store,
                             detail: "cannot open \(request.lockPath): \(String(cString: strerror(errno)))")
        }
        // `holder` probes by taking the lock for an instant: a few retries keep such a probe (a following
        // backfill polls) from refusing a daemon that starts at that very moment.
        var locked = flock(fd, LOCK_EX | LOCK_NB) == 0
        for _ in 0..<10 where !locked {
            usleep(20_000)
            locked = flock(fd, LOCK_EX | LOCK_NB) == 0
        }
        guard locked else {
            close(fd)
            let holder = (try? String(contentsOfFile: request.pidPath, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "?"
            throw StoreError(.leaseHeld, operation: "take the scheduler lock", store: store,
                             detail: "another scheduler (pid \(holder)) is already running on \(request.home)")
        }
        try? "\(getpid())\n".write(toFile: request.pidPath, atomically: true, encoding: .utf8)
        return FileSchedulerLease(descriptor: fd, pidPath: request.pidPath)
    }

    /// Whether a scheduler currently holds the lock, and its pid.
    public static func holder(_ request: SchedulerLeaseRequest) -> Int32? {
        let fd = open(request.lockPath, O_RDWR | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        if flock(fd, LOCK_EX | LOCK_NB) == 0 {
            flock(fd, LOCK_UN)
            return nil
        }
        let text = (try? String(contentsOfFile: request.pidPath, encoding: .utf8)) ?? ""
        return Int32(text.trimmingCharacters(in: .whitespacesAndNewlines))
    }
}
