import Foundation

/// The one password masker: finds every password form in text and masks it, for served logs (byte for byte, so
/// offsets stay true), pages, the API, `config check`, error messages and the logs transforms write.
///
/// Forms found without knowing the secret:
/// - URL user info: `scheme://user:PASSWORD@host`, where the password may hold `/`, `@`, `?` or `#`: it ends at
///   the last `@` that is followed by a host (`postgres://u:p/a@ss@host/db` → `p/a@ss`); an `@` inside the query
///   (`?opt=a@b`) does not count. On http(s) a lone user part is a bearer token (`https://TOKEN@api…`).
/// - Query and keyword/value pairs: `?password=…`, `&sslpassword=…`, libpq's `host=h password=secret` and
///   `password = 'a b'` (quoted, with `\'` escapes), and in a query tokens (`?api_key=`, `&apikey=`).
/// - Any key ending in password, passwd, secret, token or secret_access_key (`PGPASSWORD=x`, `DB_PASSWORD=x`,
///   `AWS_SECRET_ACCESS_KEY=x`, `client_secret=x`,
///   `ORCHESTRATOR_WEB_TOKEN=x`), with `=` or `:` and optional quotes (`"password": "x"`, `password: x`).
/// Known secrets (the web token, connection passwords) are masked wherever they appear.
public enum SecretMasker {
    /// Keys whose value is a password, in a query string or a libpq keyword/value string (case-insensitive).
    public static let passwordKeys: Set<String> = ["password", "sslpassword", "passwd"]
    /// Keys whose value is a token in a query string (`?token=…`, `&api_key=…`); a bare `token=x` in prose is not
    /// taken for one.
    public static let queryTokenKeys: Set<String> = ["token", "access_token", "api_key", "apikey", "secret", "client_secret"]
    /// A key ending in one of these (case-insensitive) holds a secret anywhere: `PGPASSWORD`, `db_password`, `api_token`.
    public static let secretKeySuffixes = ["password", "passwd", "secret", "token", "secret_access_key"]

    /// Whether a key (an environment variable, a YAML or JSON key, a query key) names a secret.
    public static func isSecretKey(_ key: String) -> Bool {
        let lower = key.lowercased()
        return secretKeySuffixes.contains { lower.hasSuffix($0) }
    }

    /// The S3 credentials of the lake: the daemon keeps them, and only the tasks that use the lake (transforms) get
    /// them. The key id goes with the secret: alone it is useless, and it names the account.
    public static let lakeCredentialVariables: Set<String> = ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"]

    /// The one rule for an environment variable that no task may see and that is scrubbed from the daemon: the web
    /// token, every connection, the lake's S3 credentials (`lakeCredentialVariables`, granted to transforms only),
    /// and any other `ORCHESTRATOR_…` variable whose name or value holds a secret (a store URL with a password, say).
    public static func isSecretVariable(name: String, value: String) -> Bool {
        if lakeCredentialVariables.contains(name) { return true }
        guard name.hasPrefix("ORCHESTRATOR_") else { return false }
        if name == "ORCHESTRATOR_WEB_TOKEN" || name.hasPrefix("ORCHESTRATOR_CONN_") { return true }
        let upper = name.uppercased()
        return ["PASSWORD", "PASSWD", "TOKEN", "SECRET"].contains { upper.contains($0) } || containsSecret(value)
    }

    /// `text` with every password form and every known secret replaced by `***`.
    public static func masked(_ text: String, secrets: [String] = []) -> String {
        let bytes = Array(text.utf8)
        var result = [UInt8]()
        result.reserveCapacity(bytes.count)
        var position = 0
        for range in secretRanges(in: bytes) {
            result += bytes[position..<range.lowerBound]
            result += Array("***".utf8)
            position = range.upperBound
        }
        result += bytes[position...]
        var masked = String(decoding: result, as: UTF8.self)
        // Longest first, so a secret containing another is masked whole.
        for secret in Set(secrets).filter({ !$0.isEmpty }).sorted(by: { $0.count > $1.count }) where masked.contains(secret) {
            masked = masked.replacingOccurrences(of: secret, with: "***")
        }
        return masked
    }

    /// Masks in place, one `*` per byte, every password form and every known secret of at least `minimumSecretLength`
    /// bytes (shorter exact matches would mask ordinary words).
    public static func mask(_ bytes: inout [UInt8], secrets: [String], minimumSecretLength: Int = 8) {
        let star = UInt8(ascii: "*")
        for range in secretRanges(in: bytes) {
            for position in range { bytes[position] = star }
        }
        for secret in secrets where secret.utf8.count >= minimumSecretLength {
            let needle = Array(secret.utf8)
            var position = 0
            while position + needle.count <= bytes.count {
                if bytes[position] == needle[0], bytes[position..<(position + needle.count)].elementsEqual(needle) {
                    for offset in 0..<needle.count { bytes[position + offset] = star }
                    position += needle.count
                } else {
                    position += 1
                }
            }
        }
    }

    /// Whether the text holds a password form.
    public static func containsSecret(_ text: String) -> Bool {
        !secretRanges(in: Array(text.utf8)).isEmpty
    }

    /// The secret values of `text` (for instance a connection URL), as written and percent-decoded, so that a log
    /// that repeats one anywhere can mask it. `extraKeys` adds query keys that count as secrets here only.
    public static func secrets(in text: String, extraKeys: Set<String> = []) -> [String] {
        let bytes = Array(text.utf8)
        var found: [String] = []
        for range in secretRanges(in: bytes, extraKeys: extraKeys) {
            let raw = String(decoding: bytes[range], as: UTF8.self)
            found.append(raw)
            if let decoded = raw.removingPercentEncoding, decoded != raw { found.append(decoded) }
            let unescaped = raw.replacingOccurrences(of: "\\'", with: "'").replacingOccurrences(of: "\\\\", with: "\\")
            if unescaped != raw { found.append(unescaped) }
        }
        return found.filter { !$0.isEmpty }
    }

    // MARK: Finding the secrets

    /// The byte ranges of secret values in `bytes`, sorted and not overlapping.
    public static func secretRanges(in bytes: [UInt8], extraKeys: Set<String> = []) -> [Range<Int>] {
        var ranges = urlUserInfoRanges(bytes) + keyValueRanges(bytes, keys: passwordKeys, queryKeys: queryTokenKeys.union(extraKeys))
        ranges.sort { $0.lowerBound < $1.lowerBound }
        var merged: [Range<Int>] = []
        for range in ranges where !range.isEmpty {
            if let last = merged.last, range.lowerBound <= last.upperBound {
                merged[merged.count - 1] = last.lowerBound..<max(last.upperBound, range.upperBound)
            } else {
                merged.append(range)
            }
        }
        return merged
    }

    static func isSpace(_ byte: UInt8) -> Bool { byte <= 0x20 || byte == 0x7F }

    /// Where a URL ends in running text: whitespace, or a quote or bracket that delimits it.
    static func endsURL(_ byte: UInt8) -> Bool {
        isSpace(byte) || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "'") || byte == UInt8(ascii: "<")
            || byte == UInt8(ascii: ">") || byte == UInt8(ascii: "`")
    }

    static func isHostByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        default:
            return ".-_:[]%,".utf8.contains(byte)
        }
    }

    static func isSchemeByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        default:
            return byte == UInt8(ascii: "+") || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "-")
        }
    }

    /// Passwords (and http(s) tokens) in the user info of every `scheme://` in the text.
    static func urlUserInfoRanges(_ bytes: [UInt8]) -> [Range<Int>] {
        let colon = UInt8(ascii: ":"), slash = UInt8(ascii: "/"), at = UInt8(ascii: "@")
        let question = UInt8(ascii: "?"), hash = UInt8(ascii: "#"), equals = UInt8(ascii: "=")
        var ranges: [Range<Int>] = []
        var index = 0
        while index + 2 < bytes.count {
            guard bytes[index] == colon, bytes[index + 1] == slash, bytes[index + 2] == slash else { index += 1; continue }
            var schemeStart = index
            while schemeStart > 0, isSchemeByte(bytes[schemeStart - 1]) { schemeStart -= 1 }
            let scheme = String(decoding: bytes[schemeStart..<index], as: UTF8.self).lowercased()
            let start = index + 3
            var end = start
            while end < bytes.count, !endsURL(bytes[end]) { end += 1 }
            defer { index = end }
            // The user name: up to the first ':' or '@', and never across '/', '?' or '#'.
            var cursor = start
            while cursor < end, bytes[cursor] != colon, bytes[cursor] != at, bytes[cursor] != slash, bytes[cursor] != question,
                  bytes[cursor] != hash { cursor += 1 }
            guard cursor < end, bytes[cursor] == colon || bytes[cursor] == at else { continue }
            if bytes[cursor] == at {
                // A user name alone is no secret, except on http(s), where it is a bearer token.
                if (scheme == "http" || scheme == "https") && cursor > start { ranges.append(start..<cursor) }
                continue
            }
            let secretStart = cursor + 1
            // The '@' that ends the user info: the last one followed by a host, that is not inside a query
            // (a '?' then a '=' before it).
            var chosen: Int?
            var queryStarted = false, queryHasEquals = false
            var position = secretStart
            while position < end {
                let byte = bytes[position]
                if byte == question { queryStarted = true; queryHasEquals = false }
                if byte == equals, queryStarted { queryHasEquals = true }
                if byte == at, !(queryStarted && queryHasEquals) {
                    var hostEnd = position + 1
                    while hostEnd < end, bytes[hostEnd] != slash, bytes[hostEnd] != question, bytes[hostEnd] != hash,
                          isHostByte(bytes[hostEnd]) { hostEnd += 1 }
                    if hostEnd == end || bytes[hostEnd] == slash || bytes[hostEnd] == question || bytes[hostEnd] == hash {
                        chosen = position
                    }
                }
                position += 1
            }
            if let chosen, chosen > secretStart { ranges.append(secretStart..<chosen) }
        }
        return ranges
    }

    /// Values of secret keys: `?password=x`, `&api_key=x`, libpq's `password=x`, `password = 'a b'`, any key ending in
    /// password/passwd/secret/token with `=` or `:`, the key and the value optionally quoted (`"password": "x"`).
    /// `queryKeys` count only right after `?` or `&`.
    static func keyValueRanges(_ bytes: [UInt8], keys: Set<String>, queryKeys: Set<String>) -> [Range<Int>] {
        let equals = UInt8(ascii: "="), colon = UInt8(ascii: ":"), quote = UInt8(ascii: "'"), doubleQuote = UInt8(ascii: "\"")
        let backslash = UInt8(ascii: "\\"), ampersand = UInt8(ascii: "&"), hash = UInt8(ascii: "#")
        func isKeyByte(_ byte: UInt8) -> Bool {
            (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
                || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || byte == UInt8(ascii: "_")
        }
        func isBlank(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 }
        let allKeys = keys.union(queryKeys)
        let keyLengths = Set(allKeys.map(\.utf8.count))
        // Cheap filters first: served log windows are scanned on every request. Every suffix ends in d, t or n.
        let suffixLastBytes: Set<UInt8> = Set(secretKeySuffixes.compactMap { $0.utf8.last })
        let shortestSuffix = secretKeySuffixes.map(\.utf8.count).min() ?? 0
        var ranges: [Range<Int>] = []
        var index = 0
        while index < bytes.count {
            guard isKeyByte(bytes[index]), index == 0 || !isKeyByte(bytes[index - 1]) else { index += 1; continue }
            var keyEnd = index
            while keyEnd < bytes.count, isKeyByte(bytes[keyEnd]) { keyEnd += 1 }
            defer { index = max(index + 1, keyEnd) }
            let length = keyEnd - index
            let maybeSuffix = length >= shortestSuffix && suffixLastBytes.contains(bytes[keyEnd - 1] | 0x20)
            guard maybeSuffix || keyLengths.contains(length) else { continue }
            let key = String(decoding: bytes[index..<keyEnd], as: UTF8.self).lowercased()
            let inQuery = index > 0 && (bytes[index - 1] == UInt8(ascii: "?") || bytes[index - 1] == ampersand)
            guard keys.contains(key) || isSecretKey(key) || (inQuery && queryKeys.contains(key)) else { continue }
            var cursor = keyEnd
            // A quoted key (`"password":`) ends with its quote.
            if index > 0, bytes[index - 1] == doubleQuote || bytes[index - 1] == quote, cursor < bytes.count, bytes[cursor] == bytes[index - 1] {
                cursor += 1
            }
            // libpq allows spaces around '='; YAML and JSON put one after ':'.
            while cursor < bytes.count, isBlank(bytes[cursor]) { cursor += 1 }
            guard cursor < bytes.count, bytes[cursor] == equals || bytes[cursor] == colon else { continue }
            let byColon = bytes[cursor] == colon
            // `user:password@host` after `scheme://` is the URL scanner's; `password::` is no pair.
            if byColon, (index > 0 && bytes[index - 1] == UInt8(ascii: "/")) || (cursor + 1 < bytes.count && bytes[cursor + 1] == colon) {
                continue
            }
            cursor += 1
            while cursor < bytes.count, isBlank(bytes[cursor]) { cursor += 1 }
            guard cursor < bytes.count else { continue }
            if bytes[cursor] == quote || bytes[cursor] == doubleQuote {
                let closing = bytes[cursor]
                let valueStart = cursor + 1
                var valueEnd = valueStart
                while valueEnd < bytes.count, bytes[valueEnd] != closing, bytes[valueEnd] != 0x0A {
                    valueEnd += bytes[valueEnd] == backslash && valueEnd + 1 < bytes.count ? 2 : 1
                }
                valueEnd = min(valueEnd, bytes.count)
                if valueEnd > valueStart { ranges.append(valueStart..<valueEnd) }
            } else {
                var valueEnd = cursor
                while valueEnd < bytes.count, !isSpace(bytes[valueEnd]), bytes[valueEnd] != ampersand, bytes[valueEnd] != hash,
                      bytes[valueEnd] != doubleQuote, bytes[valueEnd] != quote,
                      // In a flow mapping or JSON (`{password: x, user: y}`) the value ends at `,` or `}`.
                      !(byColon && (bytes[valueEnd] == UInt8(ascii: ",") || bytes[valueEnd] == UInt8(ascii: "}"))) {
                    valueEnd += bytes[valueEnd] == backslash && valueEnd + 1 < bytes.count ? 2 : 1
                }
                valueEnd = min(valueEnd, bytes.count)
                if valueEnd > cursor { ranges.append(cursor..<valueEnd) }
            }
        }
        return ranges
    }
}
