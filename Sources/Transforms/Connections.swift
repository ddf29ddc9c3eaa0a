import Foundation
import SecretMasking

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

    /// The secrets of a connection URL (its password or token, `password=` / `token=` / `key=` query values), as
    /// written and percent-decoded, found by the project's one masker (which reads user info the way libpq does).
    static func secrets(in url: String) -> [String] {
        SecretMasker.secrets(in: url, extraKeys: ["key"])
    }

    /// The URL with its password (or token) replaced by `***`, for messages.
    public static func redacted(_ url: String) -> String {
        SecretMasker.masked(url, secrets: secrets(in: url))
    }

    /// Any text with the secrets of `url` masked (for server messages that may echo them).
    public static func redactedText(_ text: String, url: String) -> String {
        Redactor(secrets: secrets(in: url)).redact(text)
    }

}

/// Replaces known secret values, and any password form, in text with `***`.
public struct Redactor: Sendable {
    let secrets: [String]

    public init(secrets: [String]) {
        // Longest first, so a secret containing another is masked whole.
        self.secrets = Array(Set(secrets)).sorted { $0.count > $1.count }
    }

    /// Every password form (SecretMasker) and every known secret.
    public func redact(_ text: String) -> String {
        SecretMasker.masked(text, secrets: secrets)
    }
}
