import Foundation
import SampleData
#if canImport(Glibc)
import Glibc
#endif

/// The TMDb v3 stand-in: `GET /3/discover/movie`, `/3/movie/{id}` and `/3/genre/movie/list` over plain HTTP/1.1 on an
/// IPv4 address, one thread per connection (keep-alive), answers computed from a `MoviesCatalog`. The day whose
/// popularity it serves is the `day` query parameter, else the `X-Sample-Day` header, else today (UTC). It can
/// answer every Nth request with a 503 or a 429 (`Retry-After`), and enforces a per-second rate limit with 429s.
final class SampleMoviesServer: @unchecked Sendable {
    struct Faults {
        var failEvery = 0
        var throttleEvery = 0
        var requestsPerSecond = 0
        var retryAfter = 1
    }

    let catalog: MoviesCatalog
    let token: String?
    let faults: Faults
    private let lock = NSLock()
    private var requests = 0
    private var second = 0
    private var inSecond = 0
    private var rankings: [Int: [Int]] = [:]
    /// Bounds: a request head, and the connections served at once (each holds a thread).
    static let maxHead = 16 << 10
    static let maxConnections = 256
    private var open = 0

    init(catalog: MoviesCatalog, token: String?, faults: Faults) {
        self.catalog = catalog
        self.token = token
        self.faults = faults
    }

    /// Binds `host:port` (port 0: any free one) and returns the socket and the bound port.
    static func bind(host: String, port: Int) throws -> (Int32, Int) {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw CLIError("movies-api: cannot open a socket") }
        var yes: Int32 = 1
        setsockopt(descriptor, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        guard inet_pton(AF_INET, host, &address.sin_addr) == 1 else {
            close(descriptor)
            throw CLIError("movies-api: --listen '\(host):\(port)' needs an IPv4 address such as 127.0.0.1")
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(descriptor, 128) == 0 else {
            close(descriptor)
            throw CLIError("movies-api: cannot listen on \(host):\(port): \(String(cString: strerror(errno)))")
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        return (descriptor, Int(UInt16(bigEndian: address.sin_port)))
    }

    func serve(_ listener: Int32) -> Never {
        while true {
            let connection = accept(listener, nil, nil)
            guard connection >= 0 else { continue }
            let admitted = lock.withLock { () -> Bool in
                guard open < Self.maxConnections else { return false }
                open += 1
                return true
            }
            guard admitted else {
                close(connection)
                continue
            }
            var timeout = timeval(tv_sec: 30, tv_usec: 0)
            setsockopt(connection, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            let thread = Thread { [self] in
                handle(connection)
                close(connection)
                lock.withLock { open -= 1 }
            }
            thread.start()
        }
    }

    private func handle(_ connection: Int32) {
        var buffer = [UInt8]()
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            // One request head (GET has no body here).
            var end: Int?
            while end == nil {
                end = Self.headEnd(buffer)
                if end != nil { break }
                guard buffer.count < Self.maxHead else { return }
                let received = recv(connection, &chunk, chunk.count, 0)
                guard received > 0 else { return }
                buffer.append(contentsOf: chunk[0..<received])
            }
            guard let headLength = end else { return }
            let head = String(decoding: buffer[0..<headLength], as: UTF8.self)
            buffer.removeFirst(headLength + 4)
            let lines = head.components(separatedBy: "\r\n")
            let requestLine = lines.first?.split(separator: " ") ?? []
            var headers: [String: String] = [:]
            for line in lines.dropFirst() {
                guard let colon = line.firstIndex(of: ":") else { continue }
                headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
            let (status, extra, body) = requestLine.count == 3 && requestLine[0] == "GET"
                ? respond(target: String(requestLine[1]), headers: headers)
                : (405, [], Self.error(405, 3, "Only GET is served."))
            let keepAlive = requestLine.last != "HTTP/1.0" && headers["connection"]?.lowercased() != "close"
            var response = "HTTP/1.1 \(status) \(Self.reason(status))\r\nContent-Type: application/json;charset=utf-8\r\n"
                + "Content-Length: \(body.count)\r\n" + extra.map { "\($0.0): \($0.1)\r\n" }.joined()
                + (keepAlive ? "" : "Connection: close\r\n") + "\r\n"
            var bytes = Array(response.utf8) + body
            response = ""
            var sent = 0
            while sent < bytes.count {
                let written = bytes.withUnsafeBytes { buffer -> Int in
                    guard let base = buffer.baseAddress else { return -1 }
                    return send(connection, base + sent, buffer.count - sent, Int32(MSG_NOSIGNAL))
                }
                guard written > 0 else { return }
                sent += written
            }
            bytes.removeAll()
            if !keepAlive { return }
        }
    }

    static func headEnd(_ buffer: [UInt8]) -> Int? {
        guard buffer.count >= 4 else { return nil }
        for index in 0...(buffer.count - 4) where buffer[index] == 13 && buffer[index + 1] == 10 && buffer[index + 2] == 13 && buffer[index + 3] == 10 {
            return index
        }
        return nil
    }

    /// The answer to one GET: status, extra headers, JSON body.
    func respond(target: String, headers: [String: String]) -> (Int, [(String, String)], [UInt8]) {
        let components = URLComponents(string: target)
        let path = components?.path ?? target
        let query = Dictionary((components?.queryItems ?? []).map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { $1 })
        if let token, headers["authorization"] != "Bearer \(token)" {
            return (401, [], Self.error(401, 7, "Invalid API key: You must be granted a valid key."))
        }
        if let fault = injectedFault() { return fault }
        let dayText = query["day"] ?? headers["x-sample-day"] ?? Self.today()
        guard let day = MoviesCatalog.dayNumber(dayText) else {
            return (400, [], Self.error(400, 22, "day '\(dayText.prefix(20))' is not a date (YYYY-MM-DD)."))
        }
        let parts = path.split(separator: "/").map(String.init)
        switch parts {
        case ["3", "discover", "movie"]:
            guard let page = Int(query["page"] ?? "1"), (1...MoviesCatalog.maxPages).contains(page) else {
                return (400, [], Self.error(400, 22, "Invalid page: Pages start at 1 and max at 500. They are expected to be an integer."))
            }
            return (200, [], Self.json(catalog.discoverPage(page, day: day, ranking: ranking(day))))
        case ["3", "genre", "movie", "list"]:
            return (200, [], Self.json(catalog.genreList))
        case _ where parts.count == 3 && parts[0] == "3" && parts[1] == "movie":
            guard let id = Int(parts[2]), let index = catalog.index(ofId: id) else {
                return (404, [], Self.error(404, 34, "The resource you requested could not be found."))
            }
            return (200, [], Self.json(catalog.details(index, day: day)))
        default:
            return (404, [], Self.error(404, 34, "The resource you requested could not be found."))
        }
    }

    private func injectedFault() -> (Int, [(String, String)], [UInt8])? {
        let now = Int(Date().timeIntervalSince1970)
        let (number, overLimit) = lock.withLock { () -> (Int, Bool) in
            requests += 1
            if now != second { (second, inSecond) = (now, 0) }
            inSecond += 1
            return (requests, faults.requestsPerSecond > 0 && inSecond > faults.requestsPerSecond)
        }
        if overLimit || (faults.throttleEvery > 0 && number % faults.throttleEvery == 0) {
            return (429, [("Retry-After", "\(faults.retryAfter)")], Self.error(429, 25, "Your request count is over the allowed limit."))
        }
        if faults.failEvery > 0 && number % faults.failEvery == 0 {
            return (503, [], Self.error(503, 9, "Service offline. This service is temporarily offline, try again later."))
        }
        return nil
    }

    private func ranking(_ day: Int) -> [Int] {
        if let cached = lock.withLock({ rankings[day] }) { return cached }
        let ranking = catalog.ranking(day: day)
        lock.withLock {
            if rankings.count > 16 { rankings.removeAll() }
            rankings[day] = ranking
        }
        return ranking
    }

    static func today() -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(secondsFromGMT: 0)
        formatter.dateFormat = "yyyy-MM-dd"
        return formatter.string(from: Date())
    }

    static func json(_ object: Any) -> [UInt8] {
        Array((try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8))
    }

    static func error(_ status: Int, _ code: Int, _ message: String) -> [UInt8] {
        json(["success": false, "status_code": code, "status_message": message])
    }

    static func reason(_ status: Int) -> String {
        [200: "OK", 400: "Bad Request", 401: "Unauthorized", 404: "Not Found", 405: "Method Not Allowed",
         429: "Too Many Requests", 503: "Service Unavailable"][status] ?? "Status"
    }
}
