import Hummingbird

/// On a loopback address, only requests naming this server are answered: a page of another site whose name was
/// rebound to 127.0.0.1 (DNS rebinding) sends its own name as Host and gets a 421. The name is matched exactly
/// (`127.0.0.1.evil.com` is another site's name, not 127.0.0.1), and a request without a Host is refused too.
struct HostCheckMiddleware: RouterMiddleware {
    let matcher: HostMatcher

    init(configuredHost: String) { matcher = HostMatcher(configuredHost: configuredHost) }

    func handle(_ request: Request, context: BasicRequestContext, next: (Request, BasicRequestContext) async throws -> Response) async throws -> Response {
        guard matcher.accepts(request.head.authority) else {
            throw HTTPError(.misdirectedRequest, message: "this server answers to \(matcher.names.joined(separator: ", ")) only")
        }
        return try await next(request, context)
    }
}

/// The Host values a loopback server answers to: the configured address, `localhost`, `127.0.0.1` and `[::1]`,
/// each alone or with `:PORT` (digits only). Case-insensitive, as host names are.
struct HostMatcher: Sendable {
    /// The accepted names as they appear in a Host header (IPv6 in brackets), lowercased.
    let names: [String]

    init(configuredHost: String) {
        let configured = configuredHost.lowercased()
        let spelled = configured.contains(":") && !configured.hasPrefix("[") ? "[\(configured)]" : configured
        var names = ["localhost", "127.0.0.1", "[::1]"]
        if !names.contains(spelled) { names.insert(spelled, at: 0) }
        self.names = names
    }

    /// Whether the configured host is a loopback address (the only case where the check applies: a server bound to
    /// another address answers to names this process cannot know).
    static func isLoopback(_ host: String) -> Bool {
        let host = host.lowercased()
        if host == "localhost" || host == "::1" || host == "[::1]" { return true }
        let parts = host.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts[0] == "127" && parts.allSatisfy { part in
            !part.isEmpty && part.count <= 3 && part.allSatisfy(\.isASCII) && part.allSatisfy(\.isNumber) && (Int(part) ?? 256) <= 255
        }
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
