import Executor
#if canImport(Glibc)
import Glibc
#endif

/// The socket a worker and the party answering for its store talk over: an unnamed AF_UNIX SOCK_SEQPACKET pair (one
/// datagram per message, in order; the end of the peer reads as the end of the stream). Unnamed, so no other process
/// can connect to it; close-on-exec at both ends, so the task a worker starts never holds it.
public enum AttemptChannel {
    /// The descriptor a spawned worker (or fallback helper) finds its end of the channel at.
    public static let childDescriptor: Int32 = 3

    public enum Failure: Error, Sendable, Equatable {
        /// The other end is closed: the daemon (or the helper) is gone.
        case peerGone
        case timedOut
        case broken(String)
    }

    /// A connected pair, both ends close-on-exec.
    public static func pair() -> (Int32, Int32)? {
        var ends: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, Int32(SOCK_SEQPACKET.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &ends) == 0 else { return nil }
        return (ends[0], ends[1])
    }

    public static func send(_ message: AttemptMessage, on descriptor: Int32) throws(Failure) {
        let bytes = message.encoded
        guard bytes.count <= AttemptMessage.sizeLimit else { throw .broken("attempt message of \(bytes.count) bytes is over the limit") }
        while true {
            // MSG_NOSIGNAL: a gone peer is an error here, not a SIGPIPE that ends the worker.
            let sent = bytes.withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress, bytes.count, Int32(MSG_NOSIGNAL)) }
            if sent == bytes.count { return }
            if sent < 0 && errno == EINTR { continue }
            if sent < 0 && (errno == EPIPE || errno == ECONNRESET || errno == ENOTCONN) { throw .peerGone }
            throw .broken("cannot send on the attempt channel: \(String(cString: strerror(errno)))")
        }
    }

    /// The next message, waiting at most `timeout` seconds (nil: forever).
    public static func receive(on descriptor: Int32, timeout: Double?) throws(Failure) -> AttemptMessage {
        let deadline = timeout.map { WallClock.monotonic() + $0 }
        var buffer = [UInt8](repeating: 0, count: AttemptMessage.sizeLimit + 1)
        while true {
            var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            let wait = deadline.map { max(0, Int32((($0 - WallClock.monotonic()) * 1000).rounded(.up))) } ?? -1
            let ready = poll(&poller, 1, wait)
            if ready < 0 && errno == EINTR { continue }
            if ready < 0 { throw .broken("cannot wait on the attempt channel: \(String(cString: strerror(errno)))") }
            if ready == 0 { throw .timedOut }
            let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if count < 0 && (errno == EINTR || errno == EAGAIN) { continue }
            if count < 0 && errno == ECONNRESET { throw .peerGone }
            if count < 0 { throw .broken("cannot read the attempt channel: \(String(cString: strerror(errno)))") }
            if count == 0 { throw .peerGone }
            guard count <= AttemptMessage.sizeLimit else { throw .broken("attempt message over \(AttemptMessage.sizeLimit) bytes") }
            do {
                return try AttemptMessage(decoding: Array(buffer.prefix(count)))
            } catch {
                throw .broken(error.description)
            }
        }
    }
}

extension AttemptChannel {
    /// Starts `executable` (a fallback helper) with the other end of a new channel at `childDescriptor`, in a process
    /// group of its own; returns this end. The helper exits when this end closes (the worker exits).
    public static func startHelper(executable: String, arguments: [String], environment: [String: String]) throws(AttemptStoreError) -> Int32 {
        guard let (ours, theirs) = pair() else {
            throw AttemptStoreError("cannot make a channel for the store's helper: \(String(cString: strerror(errno)))", kind: .unavailable)
        }
        defer { close(theirs) }
        do {
            _ = try ProcessLauncher.spawn(ProcessSpec(executable: executable, arguments: arguments, environment: environment,
                                                      passedDescriptors: [theirs]))
        } catch {
            close(ours)
            throw AttemptStoreError("cannot start the store's helper \(executable): \(error.message)", kind: .unavailable)
        }
        return ours
    }
}
