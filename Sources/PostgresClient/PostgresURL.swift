import SecretMasking

/// A `postgres://user:password@host:port/database?options` address, checked before libpq sees it, so that a typo
/// gives a clear line instead of libpq trying a local socket. `description` masks the password.
public struct PostgresURL: Sendable, CustomStringConvertible {
    /// The URL as given (libpq parses it again itself, the way it always has).
    public let string: String
    public let user: String?
    /// The password, percent-decoded (nil when the URL has none). Never print it.
    public let password: String?
    public let host: String
    public let port: Int
    public let database: String?
    /// Query options (`sslmode=require`, `connect_timeout=5`, …), in order, percent-decoded.
    public let options: [(key: String, value: String)]

    public static let schemes = ["postgres", "postgresql"]

    public init(_ string: String) throws(PostgresError) {
        let masked = SecretMasker.masked(string)
        func invalid(_ why: String) -> PostgresError {
            PostgresError(kind: .permanent, url: masked, operation: "parse the URL", message: why)
        }
        guard let separator = string.range(of: "://"), Self.schemes.contains(String(string[..<separator.lowerBound]).lowercased()) else {
            throw invalid("not a postgres:// or postgresql:// URL")
        }
        self.string = string
        var rest = string[separator.upperBound...]
        var query = Substring("")
        if let mark = rest.firstIndex(of: "?") {
            query = rest[rest.index(after: mark)...]
            rest = rest[..<mark]
        }
        // The password may hold '@' or '/': the user info ends at the last '@' before the query.
        var userInfo: Substring?
        if let at = rest.lastIndex(of: "@") {
            userInfo = rest[..<at]
            rest = rest[rest.index(after: at)...]
        }
        let authority = rest.firstIndex(of: "/").map { rest[..<$0] } ?? rest
        let path = rest.firstIndex(of: "/").map { rest[rest.index(after: $0)...] } ?? ""
        password = userInfo.flatMap { info in info.firstIndex(of: ":").map { Self.decode(info[info.index(after: $0)...]) } }
        user = userInfo.flatMap { info in
            let name = info.firstIndex(of: ":").map { info[..<$0] } ?? info
            return name.isEmpty ? nil : Self.decode(name)
        }
        var hostPart = authority
        var portPart: Substring?
        if hostPart.hasPrefix("["), let close = hostPart.firstIndex(of: "]") {
            let afterClose = hostPart.index(after: close)
            portPart = hostPart[afterClose...].hasPrefix(":") ? hostPart[hostPart.index(after: afterClose)...] : nil
            hostPart = hostPart[hostPart.index(after: hostPart.startIndex)..<close]
        } else if let colon = hostPart.lastIndex(of: ":") {
            portPart = hostPart[hostPart.index(after: colon)...]
            hostPart = hostPart[..<colon]
        }
        guard !hostPart.isEmpty else { throw invalid("no host (postgres://user:password@host:port/database)") }
        host = Self.decode(hostPart)
        if let portPart {
            guard let number = Int(portPart), (1...65535).contains(number) else { throw invalid("port '\(portPart)' is not a number from 1 to 65535") }
            port = number
        } else {
            port = 5432
        }
        database = path.isEmpty ? nil : Self.decode(path)
        var options: [(key: String, value: String)] = []
        for pair in query.split(separator: "&") where !pair.isEmpty {
            guard let equals = pair.firstIndex(of: "=") else { throw invalid("option '\(pair)' has no value (key=value)") }
            options.append((Self.decode(pair[..<equals]), Self.decode(pair[pair.index(after: equals)...])))
        }
        self.options = options
    }

    /// The URL with its password (and any password or token option) masked.
    public var description: String { SecretMasker.masked(string) }

    /// The secret values in the URL, as written and decoded, so that a server message repeating one can be masked.
    public var secrets: [String] { SecretMasker.secrets(in: string) }

    /// `text` with this URL's secrets and any password form masked.
    public func masking(_ text: String) -> String { SecretMasker.masked(text, secrets: secrets) }

    public func option(_ key: String) -> String? { options.last { $0.key == key }?.value }

    static func decode(_ text: Substring) -> String {
        var bytes: [UInt8] = []
        var index = text.utf8.startIndex
        let utf8 = text.utf8
        while index < utf8.endIndex {
            let byte = utf8[index]
            if byte == UInt8(ascii: "%"), let first = utf8.index(index, offsetBy: 1, limitedBy: utf8.endIndex), first < utf8.endIndex,
               let second = utf8.index(first, offsetBy: 1, limitedBy: utf8.endIndex), second < utf8.endIndex,
               let high = hexValue(utf8[first]), let low = hexValue(utf8[second]) {
                bytes.append(high << 4 | low)
                index = utf8.index(after: second)
            } else {
                bytes.append(byte)
                index = utf8.index(after: index)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
