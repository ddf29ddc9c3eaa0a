import Foundation

/// Named connections, from `ORCHESTRATOR_CONN_<NAME>=url` in the environment (the config file adds to these
/// later): `postgres://user:password@host:port/db`, `sqlite:///path`, `https://token@api.example.com`.
public struct Connections: Sendable {
    public private(set) var urls: [String: String] = [:]

    public init(environment: [String: String]) {
        for (name, value) in environment where name.hasPrefix("ORCHESTRATOR_CONN_") && !value.isEmpty {
            urls[String(name.dropFirst("ORCHESTRATOR_CONN_".count)).lowercased()] = value
        }
    }

    public init(urls: [String: String]) {
        self.urls = Dictionary(uniqueKeysWithValues: urls.map { ($0.key.lowercased(), $0.value) })
    }

    public func url(_ name: String) throws(TransformError) -> String {
        guard let url = urls[name.lowercased()] else {
            let known = urls.keys.sorted()
            throw TransformError("no connection named '\(name)' (set ORCHESTRATOR_CONN_\(name.uppercased())"
                                 + (known.isEmpty ? ")" : "; known: \(known.joined(separator: ", ")))"))
        }
        return url
    }

    /// Every password and token of every connection, so that logs can mask them.
    public var redactor: Redactor {
        Redactor(secrets: urls.values.flatMap(Self.secrets(in:)))
    }

    /// The user-info secrets of a URL (`user:password@` → password; a lone `token@` on http(s) → token) and
    /// `password=` / `token=` query values. Parsed by hand, as libpq does, because Foundation's URL parser gives
    /// up on passwords containing `#`, `/` or `?`, which libpq accepts.
    static func secrets(in url: String) -> [String] {
        var found: [String] = []
        if let userInfo = userInfo(of: url) {
            if let colon = userInfo.firstIndex(of: ":") {
                let password = String(userInfo[userInfo.index(after: colon)...])
                if !password.isEmpty { found += [password, password.removingPercentEncoding ?? password] }
            } else if url.hasPrefix("http"), !userInfo.isEmpty {
                found += [userInfo, userInfo.removingPercentEncoding ?? userInfo]
            }
        }
        if let query = url.split(separator: "?", maxSplits: 1).dropFirst().first {
            for pair in query.split(separator: "&") {
                let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
                if parts.count == 2, ["password", "token", "key", "secret"].contains(parts[0].lowercased()), !parts[1].isEmpty {
                    found += [parts[1], parts[1].removingPercentEncoding ?? parts[1]]
                }
            }
        }
        return found.filter { !$0.isEmpty }
    }

    /// The text between `scheme://` and the last `@` before the host.
    static func userInfo(of url: String) -> String? {
        guard let scheme = url.range(of: "://") else { return nil }
        let rest = url[scheme.upperBound...]
        guard let at = rest.lastIndex(of: "@") else { return nil }
        return String(rest[..<at])
    }

    /// The URL with its password (or token) replaced by `***`, for messages.
    public static func redacted(_ url: String) -> String {
        Redactor(secrets: secrets(in: url)).redact(url)
    }

    /// Any text with the secrets of `url` masked (for server messages that may echo them).
    public static func redactedText(_ text: String, url: String) -> String {
        Redactor(secrets: secrets(in: url)).redact(text)
    }

}

/// Replaces known secret values in text with `***`.
public struct Redactor: Sendable {
    let secrets: [String]

    public init(secrets: [String]) {
        // Longest first, so a secret containing another is masked whole.
        self.secrets = Array(Set(secrets)).sorted { $0.count > $1.count }
    }

    public func redact(_ text: String) -> String {
        guard !secrets.isEmpty else { return text }
        var result = text
        for secret in secrets where result.contains(secret) {
            result = result.replacingOccurrences(of: secret, with: "***")
        }
        return result
    }
}
