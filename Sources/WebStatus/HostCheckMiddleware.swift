import Hummingbird

/// Only requests naming this server are answered: a page of another site whose name was rebound to the server's
/// address (DNS rebinding) sends its own name as Host and gets a 421. The name is matched exactly
/// (`127.0.0.1.evil.com` is another site's name, not 127.0.0.1), and a request without a Host is refused too.
/// Installed whatever the bind address: on a LAN address the rebinding works just as well.
struct HostCheckMiddleware: RouterMiddleware {
    let matcher: HostMatcher

    init(configuredHost: String, allowedHosts: [String] = []) {
        matcher = HostMatcher(configuredHost: configuredHost, allowedHosts: allowedHosts)
    }

    func handle(_ request: Request, context: BasicRequestContext, next: (Request, BasicRequestContext) async throws -> Response) async throws -> Response {
        guard matcher.accepts(request.head.authority) else {
            throw HTTPError(.misdirectedRequest, message: "this server answers to \(matcher.names.joined(separator: ", ")) only")
        }
        return try await next(request, context)
    }
}

/// The Host values a server answers to: the configured address (unless it is a wildcard such as 0.0.0.0 or ::,
/// which no client names), `localhost`, `127.0.0.1`, `[::1]` and the names of `web_allowed_hosts`, each alone or
/// with `:PORT` (digits only). Case-insensitive, as host names are.
struct HostMatcher: Sendable {
    /// The accepted names as they appear in a Host header (IPv6 in brackets), lowercased.
    let names: [String]

    init(configuredHost: String, allowedHosts: [String] = []) {
        var names = ["localhost", "127.0.0.1", "[::1]"]
        if !Self.isWildcard(configuredHost) {
            let spelled = Self.spelled(configuredHost)
            if !names.contains(spelled) { names.insert(spelled, at: 0) }
        }
        for allowed in allowedHosts.map(Self.spelled) where !allowed.isEmpty && !names.contains(allowed) { names.append(allowed) }
        self.names = names
    }

    /// A name as a Host header carries it: lowercased, an IPv6 address in brackets.
    static func spelled(_ host: String) -> String {
        let host = host.lowercased()
        return host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
    }

    /// Whether the address binds every interface: then only the loopback and allowed names are accepted.
    static func isWildcard(_ host: String) -> Bool {
        ["0.0.0.0", "::", "[::]", "0:0:0:0:0:0:0:0", "*", ""].contains(host.lowercased())
    }

    func accepts(_ authority: String?) -> Bool {
        guard let authority = authority?.lowercased(), !authority.isEmpty else { return false }
        // IPv6 names are bracketed, so the port is what follows the bracket; otherwise what follows the first colon.
        let nameEnd: String.Index
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { return false }
            nameEnd = authority.index(after: close)
        } else {
            nameEnd = authority.firstIndex(of: ":") ?? authority.endIndex
        }
        let rest = authority[nameEnd...]
        if !rest.isEmpty {
            let port = rest.dropFirst()
            guard rest.first == ":", !port.isEmpty, port.count <= 5,
                  port.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }) else { return false }
        }
        return names.contains(String(authority[..<nameEnd]))
    }
}
