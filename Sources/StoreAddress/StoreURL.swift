/// Where the metadata store lives: `sqlite:///abs/path.db` or `postgres://user:pass@host:port/db?options`.
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
    let hasPassword: Bool

    /// The store file of a home folder's default store.
    public static func sqlite(path: String) -> StoreURL {
        StoreURL(backend: .sqlite, connectionString: "sqlite://" + path, path: path, user: nil, host: nil, port: nil,
                 database: nil, hasPassword: false)
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
        guard rest.hasPrefix("//") else { throw StoreURLError(url: masked(text), reason: "expected postgres://user:password@host:port/database") }
        let afterSlashes = rest.dropFirst(2)
        let authorityEnd = afterSlashes.firstIndex(where: { $0 == "/" || $0 == "?" }) ?? afterSlashes.endIndex
        let authority = afterSlashes[..<authorityEnd]
        var user: String?, hostPart = authority, hasPassword = false
        if let at = authority.lastIndex(of: "@") {
            let credentials = authority[..<at]
            hostPart = authority[authority.index(after: at)...]
            if let separator = credentials.firstIndex(of: ":") {
                user = String(credentials[..<separator])
                hasPassword = true
            } else {
                user = String(credentials)
            }
        }
        var host: String? = hostPart.isEmpty ? nil : String(hostPart)
        var port: Int?
        // A bracketed IPv6 host keeps its colons; otherwise the last colon starts the port.
        if let colon = hostPart.lastIndex(of: ":"), !hostPart[colon...].contains("]") {
            let digits = hostPart[hostPart.index(after: colon)...]
            guard let number = Int(digits), (1...65535).contains(number) else {
                throw StoreURLError(url: masked(text), reason: "port '\(digits)' is not a port number")
            }
            port = number
            host = colon == hostPart.startIndex ? nil : String(hostPart[..<colon])
        }
        var database: String?
        let tail = afterSlashes[authorityEnd...]
        if tail.hasPrefix("/") {
            let name = tail.dropFirst().prefix(while: { $0 != "?" })
            database = name.isEmpty ? nil : String(name)
        }
        return StoreURL(backend: .postgres, connectionString: text, path: nil, user: user.map(percentDecoded), host: host,
                        port: port, database: database.map(percentDecoded), hasPassword: hasPassword)
    }

    /// The URL with its password replaced by `***`.
    public var description: String {
        switch backend {
        case .sqlite: return "sqlite://" + (path ?? "")
        case .postgres: return Self.masked(connectionString)
        }
    }

    /// The URL with no password at all, for places any local user can read (a worker's argv): the backend's client
    /// takes the password from elsewhere (libpq: PGPASSWORD).
    public var withoutPassword: String {
        switch backend {
        case .sqlite: return description
        case .postgres: return Self.masked(connectionString, replacement: "")
        }
    }

    /// `scheme://user:secret@host…` → `scheme://user:***@host…`; anything else unchanged.
    public static func masked(_ text: String, replacement: String = ":***") -> String {
        guard let schemeEnd = text.firstRange(of: "://") else { return text }
        let afterScheme = text[schemeEnd.upperBound...]
        let authorityEnd = afterScheme.firstIndex(where: { $0 == "/" || $0 == "?" }) ?? afterScheme.endIndex
        let authority = afterScheme[..<authorityEnd]
        guard let at = authority.lastIndex(of: "@"), let colon = authority[..<at].firstIndex(of: ":") else { return text }
        return String(text[..<colon]) + replacement + String(text[at...])
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
