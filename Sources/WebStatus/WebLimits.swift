/// How long a connection may take and how many may be open: a client cannot hold the server's descriptors by opening
/// connections and sending nothing, or a request line a byte at a time.
public struct WebLimits: Sendable, Equatable {
    /// Seconds from a request's first byte to the end of its head; a slower client is disconnected.
    public var headerTimeout: Double
    /// Seconds a connection may stay open between requests (or before its first) without sending anything.
    public var idleTimeout: Double
    /// Open connections at most; further ones wait in the listen backlog until one closes.
    public var maxConnections: Int

    public static let defaults = WebLimits(headerTimeout: 10, idleTimeout: 30, maxConnections: 128)
    /// The bounds configuration checks against (`web_header_timeout`, `web_idle_timeout`, `web_max_connections`).
    public static let timeoutBounds: ClosedRange<Double> = 0.1...3600
    public static let connectionBounds: ClosedRange<Int> = 1...10_000

    public init(headerTimeout: Double, idleTimeout: Double, maxConnections: Int) {
        self.headerTimeout = headerTimeout
        self.idleTimeout = idleTimeout
        self.maxConnections = maxConnections
    }
}
