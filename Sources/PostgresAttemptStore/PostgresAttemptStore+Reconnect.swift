import CLibPQ
import WorkerCore
#if canImport(Glibc)
import Glibc
#endif

/// A server restart or a network blip must not orphan an attempt that succeeded: every write reopens a lost
/// connection (PQreset, same parameters: libpq kept the password) and runs again, a few times. A write whose
/// commit may have reached the server before the connection dropped first looks whether it landed.
extension PostgresAttemptStore {
    /// Tries of one write, the first included; about ten seconds in all with the pauses.
    static let reconnectTries = 4

    func reconnecting<T>(landed: (() throws(AttemptStoreError) -> T?)? = nil,
                         _ body: () throws(AttemptStoreError) -> T) throws(AttemptStoreError) -> T {
        var failures = 0
        var mayHaveLanded = false
        while true {
            do {
                try reconnectIfLost()
                if mayHaveLanded, let landed, let value = try landed() { return value }
                return try body()
            } catch {
                failures += 1
                guard error.kind == .unavailable, failures < Self.reconnectTries else { throw error }
                // Lost in the middle of a write: the server may have committed it; look before writing again.
                if PQstatus(connection) != CONNECTION_OK { mayHaveLanded = true }
                usleep(UInt32(1_000_000 * failures))
            }
        }
    }

    func reconnectIfLost() throws(AttemptStoreError) {
        // Reads what the server sent meanwhile (the end of a session it ended while the worker waited for its
        // task): no round trip, it never blocks, and the write then goes to a fresh session at once.
        // (The first read takes the server's message, the second meets the end of file that marks the connection bad.)
        for _ in 0..<2 where PQstatus(connection) == CONNECTION_OK && PQtransactionStatus(connection) == PQTRANS_IDLE {
            _ = PQconsumeInput(connection)
        }
        guard PQstatus(connection) != CONNECTION_OK else { return }
        PQreset(connection)
        prepared = [:]  // a new session has none of the old one's
        guard PQstatus(connection) == CONNECTION_OK else {
            throw AttemptStoreError("store \(url): cannot reconnect: \(Self.oneLine(PQerrorMessage(connection)))", kind: .unavailable)
        }
    }

    /// A write sent again after whoever was asked first (the daemon) went away unanswering: the landed checks above.
    public func landed(_ request: AttemptRequest) throws(AttemptStoreError) -> AttemptReply? {
        try reconnecting { () throws(AttemptStoreError) -> AttemptReply? in
            switch request {
            case .claim(let key, let pid, let hostname, _):
                return try claimLanded(key, pid: pid, hostname: hostname).map { AttemptReply.started($0) }
            case .reschedule(let key, let nextPokeAt, _, _):
                return try rescheduleLanded(key, nextPokeAt: nextPokeAt).map { AttemptReply.written($0) }
            case .complete(let key, _, _, let outcome):
                return try completeLanded(key, outcome: outcome).map { AttemptReply.written($0) }
            case .setTaskPid, .heartbeat:
                return nil  // writing these twice does no harm
            }
        }
    }

    /// The claim is ours if the row runs with this worker's pid and host; its start time then.
    func claimLanded(_ key: AttemptKey, pid: Int32, hostname: String) throws(AttemptStoreError) -> Double?? {
        let row = try run("""
            SELECT started_at FROM task_instances
            WHERE dag_id = $1 AND run_id = $2 AND task_id = $3 AND try_number = $4 AND state = 'running' AND pid = $5 AND hostname = $6
            """, Self.key(key) + [String(pid), hostname])
        guard row.rows > 0, let started = row.first.flatMap(Double.init) else { return nil }
        return .some(started)
    }

    /// A poke's reschedule landed if the instance waits for exactly this next poke, with the try given back.
    func rescheduleLanded(_ key: AttemptKey, nextPokeAt: Double) throws(AttemptStoreError) -> Bool? {
        let row = try run("""
            SELECT 1 FROM task_instances
            WHERE dag_id = $1 AND run_id = $2 AND task_id = $3 AND try_number = $4::int - 1 AND state = 'up_for_retry'
                AND next_retry_at = $5
            """, Self.key(key) + [Self.text(nextPokeAt)])
        return row.rows > 0 ? true : nil
    }

    /// The attempt ended as ours if its row has our state and our end time (set in the same transaction).
    func completeLanded(_ key: AttemptKey, outcome: AttemptOutcome) throws(AttemptStoreError) -> Bool? {
        let row = try run("""
            SELECT 1 FROM task_attempts
            WHERE dag_id = $1 AND run_id = $2 AND task_id = $3 AND try_number = $4 AND state = $5 AND ended_at = $6
            """, Self.key(key) + [outcome.state, Self.text(outcome.endedAt)])
        return row.rows > 0 ? true : nil
    }
}
