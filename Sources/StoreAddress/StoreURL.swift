/// Where the metadata store lives: `sqlite:///abs/path.db` or `postgres://user:pass@host:port/db?options`.
/// The password may hold `/`, `?`, `@` or `#`: the user info ends at the last `@` followed by a host (see URLParts),
/// the rule SecretMasker uses too.
/// Parsed without Foundation, so the worker (a static, Foundation-free binary) can read it from its spec.
/// `description` masks the password: print that, never `connectionString`.
public struct StoreURL: Sendable, Equatable, CustomStringConvertible {
    public enum Backend: String, Sendable, Equatable { case sqlite, postgres }

    public let backend: Backend
    /// The URL as given, password included: for the backend's own client (libpq takes it as is). Never print it.
    public let connectionString: String
    /// The database file, for `sqlite`.
    public let path: String?
    public let user: String?
    public let host: String?
    public let port: Int?
    public let database: String?
    /// The password, percent-decoded, from the user info or a `password=` option (which libpq prefers). Never print it.
    public let password: String?
    /// The SSL key's passphrase (`sslpassword=`), percent-decoded. Never print it.
    public let sslPassword: String?

    /// The variable a worker gets `sslPassword` in (libpq has none of its own); the worker passes it to libpq.
    public static let sslPasswordVariable = "ORCHESTRATOR_STORE_SSLPASSWORD"

    /// The store file of a home folder's default store.
    public static func sqlite(path: String) -> StoreURL {
        StoreURL(backend: .sqlite, connectionString: "sqlite://" + path, path: path, user: nil, host: nil, port: nil,
                 database: nil, password: nil, sslPassword: nil)
    }

    /// Accepts `sqlite:///abs/path`, a bare absolute path (a SQLite file), and `postgres://` / `postgresql://` URLs.
    public static func parse(_ text: String) throws(StoreURLError) -> StoreURL {
        if text.hasPrefix("/") { return .sqlite(path: text) }
        guard let colon = text.firstIndex(of: ":") else { throw StoreURLError(url: text, reason: "not a store URL (try sqlite:///path/to/orchestrator.db or postgres://user@host/db)") }
        let scheme = text[..<colon].lowercased()
        let rest = text[text.index(after: colon)...]
        switch scheme {
        case "sqlite":
            guard rest.hasPrefix("//"), rest.dropFirst(2).hasPrefix("/") else {
                throw StoreURLError(url: text, reason: "a sqlite store URL needs an absolute path: sqlite:///path/to/orchestrator.db")
            }
            return .sqlite(path: String(rest.dropFirst(2)))
        case "postgres", "postgresql":
            return try postgres(text, rest)
        default:
            throw StoreURLError(url: masked(text), reason: "unknown store scheme '\(scheme)' (known: sqlite, postgres)")
        }
    }

    static func postgres(_ text: String, _ rest: Substring) throws(StoreURLError) -> StoreURL {
        guard rest.hasPrefix("//"), let parts = URLParts(text) else {
            throw StoreURLError(url: masked(text), reason: "expected postgres://user:password@host:port/database")
        }
        let authority = parts.authority
        var host: String? = authority.isEmpty ? nil : String(decoding: authority, as: UTF8.self)
        var port: Int?
        // A bracketed IPv6 host keeps its colons; otherwise the last colon starts the port.
        if let colon = authority.lastIndex(of: UInt8(ascii: ":")), !authority[colon...].contains(UInt8(ascii: "]")) {
            let digits = String(decoding: authority[(colon + 1)...], as: UTF8.self)
            guard let number = Int(digits), (1...65535).contains(number) else {
                throw StoreURLError(url: masked(text), reason: "port '\(digits)' is not a port number")
            }
            port = number
            host = colon == 0 ? nil : String(decoding: authority[..<colon], as: UTF8.self)
        }
        let database = parts.path.isEmpty ? nil : String(decoding: parts.path, as: UTF8.self)
        func decoded(_ bytes: [UInt8]?) -> String? { bytes.map { percentDecoded(String(decoding: $0, as: UTF8.self)) } }
        // libpq applies the query's options after the user info, so `?password=` wins over `user:password@`.
        let queryPassword = parts.query?.last { $0.key == "password" }?.value
        let sslPassword = parts.query?.last { $0.key == "sslpassword" }?.value
        return StoreURL(backend: .postgres, connectionString: text, path: nil, user: decoded(parts.user), host: host,
                        port: port, database: database.map(percentDecoded), password: decoded(queryPassword ?? parts.password),
                        sslPassword: decoded(sslPassword))
    }

    /// The URL with every password (user info, `password=` and `sslpassword=` options) replaced by `***`.
    public var description: String {
        switch backend {
        case .sqlite: return "sqlite://" + (path ?? "")
        case .postgres: return Self.masked(connectionString)
        }
    }

    /// The URL with no password at all, for places any local user can read (a worker's argv): the backend's client
    /// takes the password from elsewhere (libpq: PGPASSWORD; see `password` and `sslPassword`).
    public var withoutPassword: String {
        switch backend {
        case .sqlite: return description
        case .postgres: return URLParts(connectionString)?.rendered(passwordReplacement: nil) ?? Self.masked(connectionString)
        }
    }

    /// `scheme://user:secret@host…?password=secret` → `scheme://user:***@host…?password=***`; text that is no URL
    /// unchanged. (Foundation-free, for the worker; the daemon's messages go through SecretMasker as well.)
    public static func masked(_ text: String) -> String {
        URLParts(text)?.rendered(passwordReplacement: "***") ?? text
    }

    static func percentDecoded(_ text: String) -> String {
        let input = Array(text.utf8)
        var bytes: [UInt8] = []
        var index = 0
        while index < input.count {
            if input[index] == UInt8(ascii: "%"), index + 2 < input.count,
               let value = UInt8(String(decoding: input[(index + 1)...(index + 2)], as: UTF8.self), radix: 16) {
                bytes.append(value)
                index += 3
            } else {
                bytes.append(input[index])
                index += 1
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// A store URL that cannot be used; `url` is already masked.
public struct StoreURLError: Error, Sendable, CustomStringConvertible {
    public let url: String
    public let reason: String
    public var description: String { "store URL \(url): \(reason)" }
}
