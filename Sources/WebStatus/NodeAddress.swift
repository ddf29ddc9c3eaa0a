/// Where other nodes reach this node's web server to fetch the logs of the attempts it ran: `advertise_url`
/// (`ORCHESTRATOR_ADVERTISE_URL`), or by default `http://` and the bound address and port. Only `http` and `https`,
/// a host, an optional port and path prefix; no user info (it would carry a password into the store), no query or
/// fragment. Written to the node's row in the store (docs/decisions/0014-node-logs.md).
public struct NodeAddress: Sendable, Equatable, CustomStringConvertible {
    public let scheme: String
    /// As a URL carries it: an IPv6 address in brackets.
    public let host: String
    public let port: Int?
    /// Empty, or a prefix such as `/orchestrator` (no trailing slash) in front of the routes.
    public let path: String

    public static let maximumLength = 2048
    /// What `advertise_url` must look like, for error messages.
    public static let expected = "an http(s) URL with a host, an optional port and path, and no user, query or fragment (http://node-b.example.org:8080)"

    public var description: String { "\(scheme)://\(host)\(port.map { ":\($0)" } ?? "")\(path)" }

    public init(parsing text: String) throws(NodeAddressError) {
        guard text.utf8.count <= Self.maximumLength else { throw NodeAddressError("is longer than \(Self.maximumLength) bytes") }
        guard text.unicodeScalars.allSatisfy({ $0.isASCII && $0.value > 0x20 && $0.value < 0x7f }) else {
            throw NodeAddressError("has spaces, control or non-ASCII characters")
        }
        let lowered = text.lowercased()
        let scheme: String
        if lowered.hasPrefix("http://") { scheme = "http" } else if lowered.hasPrefix("https://") { scheme = "https" } else {
            throw NodeAddressError("is not an http:// or https:// URL")
        }
        let rest = text.dropFirst(scheme.count + 3)
        guard !rest.contains("?"), !rest.contains("#") else { throw NodeAddressError("has a query or fragment") }
        let authority = rest.prefix { $0 != "/" }
        var path = String(rest.dropFirst(authority.count))
        guard !authority.contains("@") else { throw NodeAddressError("has user info (a password does not belong in the store)") }
        let pathCharacters = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~/%".unicodeScalars)
        guard path.unicodeScalars.allSatisfy(pathCharacters.contains), !path.split(separator: "/").contains(where: { $0 == "." || $0 == ".." }) else {
            throw NodeAddressError("has a path with characters other than letters, digits, '-', '.', '_', '~', '/' and '%', or a '.' or '..' segment")
        }
        while path.hasSuffix("/") { path.removeLast() }
        // The port follows the closing bracket of an IPv6 address, or the only colon of any other host.
        var host = String(authority), port: Int?
        let portStart = authority.hasPrefix("[") ? authority.firstIndex(of: "]").map { authority.index(after: $0) } : authority.firstIndex(of: ":")
        if let portStart, portStart < authority.endIndex {
            guard authority[portStart] == ":", let number = Int(authority[authority.index(after: portStart)...]), (1...65_535).contains(number) else {
                throw NodeAddressError("has a port that is not a number from 1 to 65535")
            }
            host = String(authority[..<portStart])
            port = number
        }
        guard WebLimits.isAllowableHostName(host), !host.contains(":") || host.hasPrefix("[") else {
            throw NodeAddressError("has no valid host name or address")
        }
        guard !HostMatcher.isWildcard(host.trimmingBrackets) else {
            throw NodeAddressError("names a wildcard address, which no other node can connect to")
        }
        self.scheme = scheme
        self.host = host.lowercased()
        self.port = port
        self.path = path
    }

    /// The default: `http://HOST:PORT` of the bound address; a wildcard address (0.0.0.0, ::) is replaced by the
    /// machine's host name, which other machines can resolve where a wildcard means nothing.
    public static func derived(bindHost: String, port: Int, machineHostName: String) -> NodeAddress? {
        let host = HostMatcher.isWildcard(bindHost) ? machineHostName : bindHost
        guard !host.isEmpty, (1...65_535).contains(port) else { return nil }
        let spelled = host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
        return try? NodeAddress(parsing: "http://\(spelled):\(port)")
    }

    /// Whether only this machine can connect to it: a default address of a 127.0.0.1 bind serves no other machine.
    public var isLoopback: Bool { host == "localhost" || host == "[::1]" || host.hasPrefix("127.") }

    /// The URL of `route` (which starts with `/`) on this node.
    func url(_ route: String) -> String { description + route }
}

/// Why a node address was refused (completed by the caller with the setting's name and source).
public struct NodeAddressError: Error, Sendable, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

extension String {
    fileprivate var trimmingBrackets: String {
        hasPrefix("[") && hasSuffix("]") ? String(dropFirst().dropLast()) : self
    }
}
