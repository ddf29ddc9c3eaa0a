import Dispatch
#if canImport(Glibc)
import Glibc
#endif

/// The answering side of attempt channels: one thread that waits on every open channel and runs each request on one
/// store connection of its own, in arrival order. The daemon runs one for all its workers (so they need no store
/// connection, and no libpq, of their own); a worker's fallback helper serves its one channel with `serve(_:store:)`.
///
/// A channel is bound to the attempt of its first request: a later request for another attempt is refused, so a
/// worker can only ever write its own attempt.
public final class AttemptChannelServer: @unchecked Sendable {
    /// Opens the store connection, at the first request and again after a failure to open.
    public typealias Opener = @Sendable () throws(AttemptStoreError) -> any AttemptStore

    let open: Opener
    /// New channels reach the serving thread through this pipe, as their descriptor numbers.
    let wakeRead: Int32
    let wakeWrite: Int32
    /// Owned by the serving thread.
    var store: (any AttemptStore)?
    var sessions: [Int32: AttemptKey?] = [:]

    public init?(open: @escaping Opener) {
        var ends: [Int32] = [-1, -1]
        guard pipe(&ends) == 0 else { return nil }
        // Before any spawn can inherit them (the scheduler creates this before its first worker).
        for end in ends { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
        self.open = open
        wakeRead = ends[0]
        wakeWrite = ends[1]
        let queue = DispatchQueue(label: "orchestrator.attempt-channels", qos: .userInitiated)
        queue.async { [self] in run() }
    }

    /// A new channel for a worker about to be spawned: returns the worker's end (pass it at
    /// `AttemptChannel.childDescriptor`, then close it here). Nil when no socket can be made.
    public func openChannel() -> Int32? {
        guard let (ours, theirs) = AttemptChannel.pair() else { return nil }
        var number = ours
        let written = withUnsafeBytes(of: &number) { write(wakeWrite, $0.baseAddress, 4) }
        guard written == 4 else {
            close(ours)
            close(theirs)
            return nil
        }
        return theirs
    }

    func run() {
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            var pollers = [pollfd(fd: wakeRead, events: Int16(POLLIN), revents: 0)]
                + sessions.keys.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            let ready = poll(&pollers, nfds_t(pollers.count), -1)
            if ready < 0 { if errno == EINTR { continue }; usleep(10_000); continue }
            if pollers[0].revents != 0 {
                let count = buffer.withUnsafeMutableBytes { read(wakeRead, $0.baseAddress, $0.count) }
                // Writes of 4 bytes to a pipe are atomic: whole descriptor numbers only.
                if count > 0 {
                    for start in stride(from: 0, to: count - count % 4, by: 4) {
                        let number = buffer[start..<start + 4].withUnsafeBytes { $0.loadUnaligned(as: Int32.self) }
                        sessions[number] = .some(nil)
                    }
                }
            }
            for poller in pollers.dropFirst() where poller.revents != 0 {
                if !answerOne(on: poller.fd) {
                    sessions.removeValue(forKey: poller.fd)
                    close(poller.fd)
                }
            }
        }
    }

    /// Reads and answers one request; false when the channel is finished (the worker exited) or unusable.
    func answerOne(on descriptor: Int32) -> Bool {
        let message: AttemptMessage
        do {
            message = try AttemptChannel.receive(on: descriptor, timeout: 0)
        } catch {
            return error == .timedOut
        }
        guard case .request(let request, let resent) = message.body else { return false }
        let bound = sessions[descriptor] ?? nil
        let reply: AttemptReply
        if let bound, bound != request.key {
            reply = .failed(kind: .permanent, description: "this channel belongs to \(bound) try \(bound.tryNumber), not \(request.key) try \(request.key.tryNumber)")
        } else {
            sessions[descriptor] = .some(request.key)
            reply = answer(request, resent: resent)
        }
        do {
            try AttemptChannel.send(AttemptMessage(id: message.id, .reply(reply)), on: descriptor)
            return true
        } catch {
            return false
        }
    }

    func answer(_ request: AttemptRequest, resent: Bool) -> AttemptReply {
        Self.answer(request, resent: resent, store: &store, open: open)
    }

    /// Opens the store if it is not yet, then answers.
    static func answer(_ request: AttemptRequest, resent: Bool, store: inout (any AttemptStore)?,
                       open: () throws(AttemptStoreError) -> any AttemptStore) -> AttemptReply {
        do {
            if store == nil { store = try open() }
        } catch {
            return .failed(kind: error.kind, description: error.description)
        }
        return store?.answer(request, resent: resent) ?? .failed(kind: .unavailable, description: "the store is not open")
    }

    /// A fallback helper's loop: answers the requests on `descriptor` until its worker closes it. The store opens at
    /// the first request and again after a failure, so a store that was down when the helper started is tried again.
    public static func serve(_ descriptor: Int32, open: () throws(AttemptStoreError) -> any AttemptStore) {
        var store: (any AttemptStore)?
        var bound: AttemptKey?
        while let message = try? AttemptChannel.receive(on: descriptor, timeout: nil),
              case .request(let request, let resent) = message.body {
            let reply: AttemptReply
            if let bound, bound != request.key {
                reply = .failed(kind: .permanent, description: "this helper serves \(bound) try \(bound.tryNumber), not \(request.key)")
            } else {
                bound = request.key
                reply = answer(request, resent: resent, store: &store, open: open)
            }
            guard (try? AttemptChannel.send(AttemptMessage(id: message.id, .reply(reply)), on: descriptor)) != nil else { return }
        }
    }
}
