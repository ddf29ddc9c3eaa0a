import Foundation

/// The exact secrets a server masks wherever they appear (the web token, every configured connection's password),
/// shared between the daemon, which replaces them on a reload, and the threads that serve logs.
public final class KnownSecrets: @unchecked Sendable {
    private let lock = NSLock()
    private var current: [String]

    public init(_ values: [String] = []) { current = values }

    public var values: [String] { lock.withLock { current } }

    public func set(_ values: [String]) { lock.withLock { current = values } }

    /// The passwords and tokens of connection URLs, as written and decoded: a task that prints one bare is masked too.
    public static func ofConnections(_ urls: some Sequence<String>) -> [String] {
        Array(Set(urls.flatMap { SecretMasker.secrets(in: $0) }))
    }
}
