import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// systemd's notify protocol, spoken directly: one datagram per message to the Unix socket named by
/// `$NOTIFY_SOCKET` (a path, or an abstract name starting with `@`). READY=1, STATUS=…, WATCHDOG=1, STOPPING=1.
/// Without `$NOTIFY_SOCKET` (not under systemd) every call does nothing.
public final class SystemdNotifier: @unchecked Sendable {
    let socketPath: String?
    /// Half the `WatchdogSec=` interval, when systemd asked for watchdog pings for this process.
    public let watchdogInterval: Double?

    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        let path = environment["NOTIFY_SOCKET"].flatMap { $0.isEmpty ? nil : $0 }
        socketPath = path
        var interval: Double?
        if let text = environment["WATCHDOG_USEC"], let microseconds = Double(text), microseconds > 0,
           environment["WATCHDOG_PID"].map({ Int32($0) == getpid() }) ?? true {
            interval = microseconds / 2 / 1_000_000
        }
        watchdogInterval = path == nil ? nil : interval
    }

    public var isActive: Bool { socketPath != nil }

    /// Sends `message` (lines of KEY=VALUE); returns whether it was delivered.
    @discardableResult
    public func notify(_ message: String) -> Bool {
        guard let socketPath else { return false }
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        var bytes = Array(socketPath.utf8)
        if bytes.first == UInt8(ascii: "@") { bytes[0] = 0 }  // abstract namespace
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard bytes.count < capacity else { return false }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
        }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count + (bytes.first == 0 ? 0 : 1))
        let payload = Array(message.utf8)
        let sent = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                sendto(fd, payload, payload.count, Int32(MSG_NOSIGNAL), socketAddress, length)
            }
        }
        return sent == payload.count
    }
}
