import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A bare TCP connection to 127.0.0.1, for requests no HTTP client would send: raw Host headers, half-sent request
/// lines, connections that say nothing.
final class RawConnection {
    private var descriptor: Int32

    init?(port: Int) {
        descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { return nil }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            close(descriptor)
            return nil
        }
    }

    deinit { if descriptor >= 0 { close(descriptor) } }

    func send(_ text: String) {
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    enum Outcome: Equatable {
        /// What arrived before the server closed the connection (or the wait ended, for `timedOut`).
        case closed(String)
        case timedOut(String)
    }

    /// Reads until the server closes the connection or `seconds` pass.
    func readUntilClosed(within seconds: Double) -> Outcome {
        var received = [UInt8]()
        let deadline = Date().addingTimeInterval(seconds)
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let left = deadline.timeIntervalSinceNow
            guard left > 0 else { return .timedOut(String(decoding: received, as: UTF8.self)) }
            var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            let ready = poll(&poller, 1, Int32(max(1, left * 1000)))
            if ready <= 0 { continue }
            let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if count <= 0 { return .closed(String(decoding: received, as: UTF8.self)) }
            received += buffer[0..<count]
        }
    }

    /// Reads until a whole response head has arrived (or the wait ends); returns the status code, or nil.
    func readStatus(within seconds: Double) -> Int? {
        var received = [UInt8]()
        let deadline = Date().addingTimeInterval(seconds)
        var buffer = [UInt8](repeating: 0, count: 4096)
        while deadline.timeIntervalSinceNow > 0 {
            let text = String(decoding: received, as: UTF8.self)
            if text.contains("\r\n\r\n") { return Int(text.split(separator: " ").dropFirst().first ?? "") }
            var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, Int32(max(1, deadline.timeIntervalSinceNow * 1000))) > 0 else { continue }
            let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if count <= 0 { break }
            received += buffer[0..<count]
        }
        let text = String(decoding: received, as: UTF8.self)
        return text.contains("\r\n\r\n") ? Int(text.split(separator: " ").dropFirst().first ?? "") : nil
    }

    /// One request with exactly these header lines (`Connection: close` added); the status of the answer, or nil.
    static func status(port: Int, headerLines: [String], path: String = "/healthz") -> Int? {
        guard let connection = RawConnection(port: port) else { return nil }
        connection.send("GET \(path) HTTP/1.1\r\n" + headerLines.map { $0 + "\r\n" }.joined() + "Connection: close\r\n\r\n")
        return connection.readStatus(within: 10)
    }
}
