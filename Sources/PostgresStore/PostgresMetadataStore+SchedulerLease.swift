import Foundation
import MetadataStore
import PostgresClient
import SQLiteStore

extension PostgresMetadataStore {
    /// One scheduler per store: a session advisory lock on a connection of its own, which the server drops when that
    /// process (or its machine) goes away, plus the home's lock file, which names the local holder's pid so that the CLI
    /// can wake it. (Several schedulers on one store are the multi-node work, not this lease.)
    public func acquireSchedulerLease(_ request: SchedulerLeaseRequest) throws -> any SchedulerLease {
        let local = try FileSchedulerLease.acquire(request, store: location)
        do {
            let db = try PostgresConnection(url: url, applicationName: AdvisorySchedulerLease.applicationName)
            // One lock per schema: two stores in different schemas of one database each get their scheduler.
            guard try db.query("SELECT pg_try_advisory_lock($1::int4, hashtext(current_schema()))", [Self.schedulerLockKey])
                .first?.bool(0) == true else {
                local.release()
                throw StoreError(.leaseHeld, operation: "take the scheduler lock", store: location,
                                 detail: "another scheduler already holds the scheduler lock of \(location)")
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

    /// The lock's first key; the second is the schema's hash.
    static let schedulerLockKey: Int32 = 0x6f72_6368  // "orch"
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
            // Closing the session releases the advisory lock.
            connection = nil
            local.release()
        }
    }
}
