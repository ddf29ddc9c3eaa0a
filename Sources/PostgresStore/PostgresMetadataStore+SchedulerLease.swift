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
            let db = try PostgresConnection(url: url)
            guard try db.query("SELECT pg_try_advisory_lock($1)", [Self.schedulerLockKey]).first?.bool(0) == true else {
                local.release()
                throw StoreError(.leaseHeld, operation: "take the scheduler lock", store: location,
                                 detail: "another scheduler already holds the scheduler lock of \(location)")
            }
            return AdvisorySchedulerLease(connection: db, local: local)
        } catch let error as PostgresError {
            local.release()
            throw Self.storeError(error, operation: "take the scheduler lock", store: location)
        }
    }

    public func schedulerLeaseHolder(_ request: SchedulerLeaseRequest) -> Int32? {
        FileSchedulerLease.holder(request)
    }

    static let schedulerLockKey: Int64 = 0x6f72_6368_7363_6864  // "orchschd"
}

/// The scheduler lease on PostgreSQL: holding the connection holds the advisory lock.
final class AdvisorySchedulerLease: SchedulerLease, @unchecked Sendable {
    private let lock = NSLock()
    private var connection: PostgresConnection?
    private let local: FileSchedulerLease

    init(connection: PostgresConnection, local: FileSchedulerLease) {
        self.connection = connection
        self.local = local
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
