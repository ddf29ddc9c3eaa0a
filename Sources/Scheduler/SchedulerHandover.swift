import Foundation
import MetadataStore
import WorkerCore
#if canImport(Glibc)
import Glibc
#endif

/// How a daemon gets the home's scheduler lock from a backfill that took it over (its followed daemon died): the
/// daemon writes its pid to the handover file and wakes the holder; the backfill's scoped loop sees the request
/// after its next pass, releases the lock (its workers run on; the daemon adopts them) and goes back to following.
/// Only a backfill hands over: a second daemon is still refused at once.
public enum SchedulerHandover {
    public static func requestPath(_ home: HomeLayout) -> String { "\(home.home)/scheduler.handover" }

    /// When a backfill holds the lock, asks it to hand over and waits until the lock is free, for at most `timeout`
    /// seconds. Returns at once when the lock is free or held by something else (the caller's lock attempt then
    /// reports the holder).
    public static func requestFromBackfill(_ home: HomeLayout, leases: any SchedulerLeaseStore, timeout: Double) {
        // Written before looking at the lock, and kept until the daemon is ready or exits: a following backfill that
        // sees a live request does not take the lock over, so a daemon starting just as its predecessor died (the
        // backfill not yet holding the lock) is not beaten to it.
        try? "\(getpid())\n".write(toFile: requestPath(home), atomically: true, encoding: .utf8)
        guard let holder = leases.schedulerLeaseHolder(home.schedulerLeaseRequest),
              isBackfill(holder) else { return }
        let deadline = Date().addingTimeInterval(timeout)
        var nextWake = Date()
        while Date() < deadline {
            // (Also nil for the instant between the holder's unlinking its pid file and closing the lock; the lock
            // attempt retries over that.)
            guard let current = leases.schedulerLeaseHolder(home.schedulerLeaseRequest)
            else { return }
            if Date() >= nextWake {
                kill(current, SIGUSR1)  // again each second: a pass under way when the first came ends with a check anyway
                nextWake = Date().addingTimeInterval(1)
            }
            usleep(50_000)
        }
    }

    /// The live process (not this one) that asked for the lock, if any: a stale request (its daemon died) is none.
    public static func pendingRequester(_ home: HomeLayout) -> Int32? {
        guard let text = try? String(contentsOfFile: requestPath(home), encoding: .utf8),
              let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)), pid > 0, pid != getpid() else { return nil }
        return kill(pid, 0) == 0 || errno == EPERM ? pid : nil
    }

    /// Removes this process's request (the daemon holds the lock now, or gave up).
    public static func withdraw(_ home: HomeLayout) {
        let path = requestPath(home)
        guard let text = try? String(contentsOfFile: path, encoding: .utf8),
              Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)) == getpid() else { return }
        unlink(path)
    }

    /// Whether `pid` is an `orchestrator backfill` (the only scheduler that hands its lock over).
    static func isBackfill(_ pid: Int32) -> Bool {
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
        let arguments = data.split(separator: 0, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
        return arguments.count > 1 && arguments[1] == "backfill"
    }
}
