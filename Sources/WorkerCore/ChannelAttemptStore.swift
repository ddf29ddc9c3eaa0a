#if canImport(Glibc)
import Glibc
#endif

/// The worker's attempt store when its daemon answers for the store: every write is a request on the channel the
/// daemon handed it at spawn, answered by the daemon's own connection (the same compare-and-sets, the store's clock).
/// When the daemon is gone (killed, restarted), the worker starts `fallback` — a helper that opens the store itself —
/// and sends the unanswered request there again, marked resent, so an attempt outlives its daemon as before.
public final class ChannelAttemptStore: AttemptStore {
    /// Starts the helper that answers in the daemon's place; returns the worker's end of its channel.
    public typealias Fallback = () throws(AttemptStoreError) -> Int32

    var descriptor: Int32
    let fallback: Fallback
    /// Who answers now: the daemon until it is gone, then the helper.
    public private(set) var answeredByFallback = false
    var nextId: UInt32 = 0
    /// A reply later than this is given up on (the request fails as an unreachable store would); the daemon's own
    /// reconnecting stays well inside it.
    let replyTimeout: Double

    public init(descriptor: Int32, replyTimeout: Double = 90, fallback: @escaping Fallback) {
        self.descriptor = descriptor
        self.replyTimeout = replyTimeout
        self.fallback = fallback
    }

    deinit { close(descriptor) }

    public func claim(_ key: AttemptKey, pid: Int32, hostname: String, at time: Double) throws(AttemptStoreError) -> Double? {
        guard case .started(let first) = try ask(.claim(key, pid: pid, hostname: hostname, at: time)) else { throw Self.unexpected }
        return first
    }

    public func reschedule(_ key: AttemptKey, nextPokeAt: Double, note: String, at time: Double) throws(AttemptStoreError) -> Bool {
        guard case .written(let written) = try ask(.reschedule(key, nextPokeAt: nextPokeAt, note: note, at: time)) else { throw Self.unexpected }
        return written
    }

    public func setTaskPid(_ key: AttemptKey, taskPid: Int32) throws(AttemptStoreError) {
        guard case .done = try ask(.setTaskPid(key, taskPid: taskPid)) else { throw Self.unexpected }
    }

    public func heartbeat(_ key: AttemptKey, at time: Double) throws(AttemptStoreError) -> HeartbeatResult {
        guard case .heartbeat(let result) = try ask(.heartbeat(key, at: time)) else { throw Self.unexpected }
        return result
    }

    public func complete(_ key: AttemptKey, hostname: String, pid: Int32, outcome: AttemptOutcome) throws(AttemptStoreError) -> Bool {
        guard case .written(let written) = try ask(.complete(key, hostname: hostname, pid: pid, outcome: outcome)) else { throw Self.unexpected }
        return written
    }

    static let unexpected = AttemptStoreError("the attempt channel answered a different request", kind: .permanent)

    /// Sends `request` and waits for its reply. The first answerer gone → the helper, once per answerer: a helper that
    /// dies too is started again for the next request.
    func ask(_ request: AttemptRequest) throws(AttemptStoreError) -> AttemptReply {
        var resent = false
        for _ in 0..<3 {
            nextId &+= 1
            do {
                let reply = try exchange(AttemptMessage(id: nextId, .request(request, resent: resent)))
                if case .failed(let kind, let description) = reply { throw AttemptStoreError(description, kind: kind) }
                return reply
            } catch let failure as AttemptChannel.Failure {
                switch failure {
                case .peerGone:
                    // The request may have been written before the answerer died: the next one looks first.
                    resent = true
                    close(descriptor)
                    descriptor = -1
                    if !answeredByFallback {
                        // The worker's stderr is its daemon's (its log, or the journal): the next daemon's operator sees why.
                        let line = Array("orchestrator-worker: the daemon that started this worker is gone; its helper opens the store for \(request.key)\n".utf8)
                        _ = line.withUnsafeBytes { write(2, $0.baseAddress, line.count) }
                    }
                    descriptor = try fallback()
                    answeredByFallback = true
                case .timedOut:
                    throw AttemptStoreError("no answer on the attempt channel within \(Int(replyTimeout)) s", kind: .unavailable)
                case .broken(let why):
                    throw AttemptStoreError("attempt channel: \(why)", kind: .unavailable)
                }
            } catch let error as AttemptStoreError {
                throw error
            } catch {
                throw AttemptStoreError("attempt channel: \(error)", kind: .unavailable)
            }
        }
        throw AttemptStoreError("the store's helper keeps dying: the attempt channel is gone", kind: .unavailable)
    }

    /// One request out, its reply in; replies to earlier requests that timed out are skipped.
    func exchange(_ message: AttemptMessage) throws -> AttemptReply {
        // No answerer (a helper that failed to start): as if it were gone, so the next try starts one.
        guard descriptor >= 0 else { throw AttemptChannel.Failure.peerGone }
        try AttemptChannel.send(message, on: descriptor)
        let deadline = WallClock.monotonic() + replyTimeout
        while true {
            let reply = try AttemptChannel.receive(on: descriptor, timeout: max(0, deadline - WallClock.monotonic()))
            guard reply.id == message.id else { continue }
            guard case .reply(let answer) = reply.body else { throw AttemptChannel.Failure.broken("a request came back instead of a reply") }
            return answer
        }
    }
}
