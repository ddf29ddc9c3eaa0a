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

    /// The user-info secrets of a URL (`user:password@` → password; a lone `token@` → token), and a
    /// `password=` query value.
    static func secrets(in url: String) -> [String] {
        var found: [String] = []
        if let components = URLComponents(string: url) {
            if let password = components.password, !password.isEmpty { found.append(password) }
            else if components.password == nil, let user = components.user, !user.isEmpty, url.hasPrefix("http") { found.append(user) }
            for item in components.queryItems ?? [] where ["password", "token", "key", "secret"].contains(item.name.lowercased()) {
                if let value = item.value, !value.isEmpty { found.append(value) }
            }
            // Percent-decoded and raw forms may both appear in messages.
            if let raw = components.percentEncodedPassword, !raw.isEmpty { found.append(raw) }
        }
        return found.filter { $0.count >= 3 }
    }

    /// Any text with the secrets of `url` masked (for server messages that may echo them).
    public static func redactedText(_ text: String, url: String) -> String {
        Redactor(secrets: secrets(in: url)).redact(text)
    }

    /// The URL with its password (or token) replaced by `***`, for messages.
    public static func redacted(_ url: String) -> String {
        Redactor(secrets: secrets(in: url)).redact(url)
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
