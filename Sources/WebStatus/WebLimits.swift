/// How long a connection may take and how many may be open: a client cannot hold the server's descriptors by opening
/// connections and sending nothing, or a request line a byte at a time.
public struct WebLimits: Sendable, Equatable {
    /// Seconds from a request's first byte to the end of its head, and again from its head to the end of its body;
    /// a slower client is disconnected.
    public var headerTimeout: Double
    /// Seconds a connection may stay open between requests (or before its first) without sending anything.
    public var idleTimeout: Double
    /// Open connections at most; further ones wait in the listen backlog until one closes.
    public var maxConnections: Int
    /// Host names answered besides the bound address and the loopback names (`web_allowed_hosts`): what clients
    /// call a server bound to 0.0.0.0 or a LAN address. Any other Host gets a 421 (DNS rebinding).
    public var allowedHosts: [String] = []

    public static let defaults = WebLimits(headerTimeout: 10, idleTimeout: 30, maxConnections: 128)
    /// The bounds configuration checks against (`web_header_timeout`, `web_idle_timeout`, `web_max_connections`).
    public static let timeoutBounds: ClosedRange<Double> = 0.1...3600
    public static let connectionBounds: ClosedRange<Int> = 1...10_000

    public init(headerTimeout: Double, idleTimeout: Double, maxConnections: Int) {
        self.headerTimeout = headerTimeout
        self.idleTimeout = idleTimeout
        self.maxConnections = maxConnections
    }

    /// Whether `name` can be an entry of `web_allowed_hosts`: a DNS name or IPv4 address (letters, digits, `-`, `.`)
    /// or an IPv6 address, optionally bracketed. No port, no spaces, nothing a Host header could not carry.
    public static func isAllowableHostName(_ name: String) -> Bool {
        guard !name.isEmpty, name.count <= 253 else { return false }
        var bare = Substring(name)
        if bare.hasPrefix("[") && bare.hasSuffix("]") { bare = bare.dropFirst().dropLast() }
        if bare.contains(":") { return bare.allSatisfy { $0.isASCII && ($0.isHexDigit || $0 == ":" || $0 == ".") } }
        return !bare.isEmpty && !bare.hasPrefix(".") && !bare.hasPrefix("-") && !bare.contains("..")
            && bare.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == ".") }
    }
}
