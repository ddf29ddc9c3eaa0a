import Foundation
import MetadataStore
import PostgresClient
import SQLiteStore

extension PostgresMetadataStore {
    /// One scheduler per node name on the store, and per home on the machine: a session advisory lock for the node on
    /// a connection of its own, which the server drops when that process (or its machine) goes away, plus the home's
    /// lock file, which names the local holder's pid so that the CLI can wake it. Nodes of other names take other
    /// locks and schedule beside this one (decision 0012: every step of a pass is a compare-and-set or a store-held
    /// limit); a second daemon under a taken name is refused, as its pid checks and parallelism would be this one's.
    public func acquireSchedulerLease(_ request: SchedulerLeaseRequest) throws -> any SchedulerLease {
        let local = try FileSchedulerLease.acquire(request, store: location)
        do {
            let db = try PostgresConnection(url: url, applicationName: AdvisorySchedulerLease.applicationName)
            let taken = try db.query(Self.nodeLockStatement, [request.nodeName]).first
            // A daemon of the release before several schedulers holds the old one-per-store lock exclusively and
            // assumes it is alone: refuse to run beside it (and, holding it shared, keep one from starting).
            guard taken?.bool(1) == true else {
                local.release()
                throw StoreError(.leaseHeld, operation: "take the scheduler lock", store: location, detail: """
                    a daemon of an older release (one scheduler per store) is running on \(location); \
                    stop every older daemon before starting this one
                    """)
            }
            guard taken?.bool(0) == true else {
                local.release()
                throw StoreError(.leaseHeld, operation: "take the scheduler lock", store: location, detail: """
                    node '\(request.nodeName)' already has a live scheduler on \(location); \
                    give each daemon its own node name (ORCHESTRATOR_NODE_NAME)
                    """)
            }
            return AdvisorySchedulerLease(connection: db, local: local, location: location)
        } catch let error as PostgresError {
            local.release()
            throw Self.storeError(error, operation: "take the scheduler lock", store: location)
        }
    }

    public func schedulerLeaseHolder(_ request: SchedulerLeaseRequest) -> Int32? {
        FileSchedulerLease.holder(request)
    }

    /// The node's lock: a one-key (bigint) advisory lock on a hash of the schema and the node name, so that stores in
    /// two schemas of one database keep apart. The one-key space does not meet the two-key one of the limit locks
    /// (`LimitLock`) nor the lock of the one scheduler per store that came before it (two keys: "orch", the schema's
    /// hash), which is why old and new daemons must not run together (see 0012's upgrade note).
    static let nodeLockStatement = """
        SELECT pg_try_advisory_lock(hashtextextended(current_schema() || '/' || $1::text, \(schedulerLockSeed))),
               pg_try_advisory_lock_shared(\(legacyStoreLockKey)::int4, hashtext(current_schema()))
        """

    /// The first key of the older releases' one-scheduler-per-store lock (two keys: this, the schema's hash). Every
    /// node holds it shared, so an older daemon's exclusive try fails while any node runs, and the other way round.
    static let legacyStoreLockKey: Int32 = 0x6f72_6368

    /// The hash's seed ("orch"), so that the key is this lock's and not another program's hash of the same text.
    static let schedulerLockSeed: Int64 = 0x6f72_6368
}

/// The scheduler lease on PostgreSQL: holding the connection holds the advisory lock.
final class AdvisorySchedulerLease: SchedulerLease, @unchecked Sendable {
    private let lock = NSLock()
    private var connection: PostgresConnection?
    private let local: FileSchedulerLease
    private let location: String
    private var lastChecked: Date
    /// The lease connection's name in pg_stat_activity, for operators (and the tests that drop it).
    static let applicationName = "orchestrator scheduler lease"
    /// Seconds between two checks on the server.
    static let checkInterval = 1.0

    init(connection: PostgresConnection, local: FileSchedulerLease, location: String) {
        self.connection = connection
        self.local = local
        self.location = location
        lastChecked = Date()
    }

    /// A session whose connection is gone has lost its advisory lock: `SELECT 1` finds out (keepalives and
    /// tcp_user_timeout bound how long a half-open socket can hide it).
    func checkHeld(now: Date) throws {
        try lock.withLock {
            guard let connection else {
                throw StoreError(.unavailable, operation: "check the scheduler lock", store: location, detail: "the lease was released")
            }
            guard now.timeIntervalSince(lastChecked) >= Self.checkInterval else { return }
            lastChecked = now
            do throws(PostgresError) {
                try connection.execute("SELECT 1")
            } catch {
                throw StoreError(.unavailable, operation: "check the scheduler lock", store: location,
                                 detail: "the connection holding the lock is gone (\(error.message)), and the lock with it")
            }
        }
    }

    deinit { release() }

    func release() {
        lock.withLock {
            // Closing the session would release the locks too, but only once the server has noticed the close: a
            // daemon taking over from a backfill at that moment would be refused. Unlock first (best effort: a dead
            // connection has no locks left to release).
            try? connection?.execute("SELECT pg_advisory_unlock_all()")
            connection = nil
            local.release()
        }
    }
}
