/// A `scheme://user:password@host:port/path?key=value` URL cut into its parts, on bytes and without Foundation.
/// The user info ends at the last `@` that is followed by a host and is not inside the query, as SecretMasker finds
/// it, so a password may hold `/`, `?`, `@` or `#`. Parts are kept as written (percent-encoded).
struct URLParts {
    /// The password options libpq reads from a URL's query.
    static let passwordKeys: Set<String> = ["password", "sslpassword"]

    let scheme: [UInt8]
    let user: [UInt8]?
    let password: [UInt8]?
    let hasUserInfo: Bool
    let authority: [UInt8]
    let path: [UInt8]
    /// Whether a `/` follows the authority (`postgres://h/` keeps it).
    let hasPathSlash: Bool
    /// nil when the URL has no `?`.
    let query: [(key: String, value: [UInt8], raw: [UInt8])]?

    init?(_ text: String) {
        let bytes = Array(text.utf8)
        let colon = UInt8(ascii: ":"), slash = UInt8(ascii: "/"), at = UInt8(ascii: "@"), question = UInt8(ascii: "?")
        let hash = UInt8(ascii: "#"), equals = UInt8(ascii: "=")
        guard let schemeEnd = bytes.firstIndex(of: colon), bytes.count >= schemeEnd + 3, bytes[schemeEnd + 1] == slash,
              bytes[schemeEnd + 2] == slash else { return nil }
        scheme = Array(bytes[..<schemeEnd])
        let body = Array(bytes[(schemeEnd + 3)...])
        func isHostByte(_ byte: UInt8) -> Bool {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                return true
            default:
                return ".-_:[]%,".utf8.contains(byte)
            }
        }
        var userInfoEnd: Int?
        var queryStarted = false, queryHasEquals = false
        for (position, byte) in body.enumerated() {
            if byte == question { queryStarted = true; queryHasEquals = false }
            if byte == equals, queryStarted { queryHasEquals = true }
            guard byte == at, !(queryStarted && queryHasEquals) else { continue }
            var hostEnd = position + 1
            while hostEnd < body.count, body[hostEnd] != slash, body[hostEnd] != question, body[hostEnd] != hash,
                  isHostByte(body[hostEnd]) { hostEnd += 1 }
            if hostEnd == body.count || body[hostEnd] == slash || body[hostEnd] == question || body[hostEnd] == hash {
                userInfoEnd = position
            }
        }
        var rest = body[...]
        if let userInfoEnd {
            let info = body[..<userInfoEnd]
            if let separator = info.firstIndex(of: colon) {
                user = Array(info[..<separator])
                password = Array(info[(separator + 1)...])
            } else {
                user = Array(info)
                password = nil
            }
            hasUserInfo = true
            rest = body[(userInfoEnd + 1)...]
        } else {
            user = nil
            password = nil
            hasUserInfo = false
        }
        let queryStart = rest.firstIndex(of: question)
        let beforeQuery = queryStart.map { rest[..<$0] } ?? rest
        let authorityEnd = beforeQuery.firstIndex(of: slash) ?? beforeQuery.endIndex
        authority = Array(beforeQuery[..<authorityEnd])
        hasPathSlash = authorityEnd < beforeQuery.endIndex
        path = hasPathSlash ? Array(beforeQuery[(authorityEnd + 1)...]) : []
        if let queryStart {
            query = rest[(queryStart + 1)...].split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: true).map { pair in
                let equalsAt = pair.firstIndex(of: equals) ?? pair.endIndex
                // libpq decodes keys as well as values: `%70assword` is a password too.
                let key = StoreURL.percentDecoded(String(decoding: pair[..<equalsAt], as: UTF8.self)).lowercased()
                let value = equalsAt < pair.endIndex ? Array(pair[(equalsAt + 1)...]) : []
                return (key, value, Array(pair))
            }
        } else {
            query = nil
        }
    }

    /// The URL again, each password replaced by `passwordReplacement`, or left out when it is nil.
    func rendered(passwordReplacement: String?) -> String {
        var out = scheme + Array("://".utf8)
        if hasUserInfo {
            out += user ?? []
            if password != nil, let passwordReplacement { out += Array((":" + passwordReplacement).utf8) }
            out.append(UInt8(ascii: "@"))
        }
        out += authority
        if hasPathSlash { out.append(UInt8(ascii: "/")); out += path }
        if let query {
            var pairs: [[UInt8]] = []
            for pair in query {
                if Self.passwordKeys.contains(pair.key) {
                    guard let passwordReplacement else { continue }
                    pairs.append(pair.raw.prefix { $0 != UInt8(ascii: "=") } + Array(("=" + passwordReplacement).utf8))
                } else {
                    pairs.append(pair.raw)
                }
            }
            if !pairs.isEmpty || passwordReplacement != nil {
                out.append(UInt8(ascii: "?"))
                out += Array(pairs.joined(separator: [UInt8(ascii: "&")]))
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
