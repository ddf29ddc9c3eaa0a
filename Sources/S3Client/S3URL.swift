/// Builds request URLs already in SigV4's canonical form: libcurl 7.88 signs the path and the query exactly as
/// given (it neither sorts the query nor re-encodes), so the URL itself must be canonical.
struct S3URL {
    let endpoint: String?
    let region: String

    /// `http://host:port/bucket/key` with an endpoint; `https://bucket.s3.region.amazonaws.com/key` on AWS
    /// (path-style there too when the bucket name has a dot, which would not match the TLS certificate).
    func url(bucket: String, key: String? = nil, query: [(String, String)] = []) -> String {
        let encodedKey = key.map { "/" + S3URL.encode($0, keepSlash: true) } ?? ""
        var base: String
        if let endpoint {
            var trimmed = Substring(endpoint)
            while trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }
            base = "\(trimmed)/\(S3URL.encode(bucket, keepSlash: false))\(encodedKey.isEmpty ? "/" : encodedKey)"
        } else if bucket.contains(".") {
            base = "https://s3.\(region).amazonaws.com/\(bucket)\(encodedKey.isEmpty ? "/" : encodedKey)"
        } else {
            base = "https://\(bucket).s3.\(region).amazonaws.com\(encodedKey.isEmpty ? "/" : encodedKey)"
        }
        if !query.isEmpty { base += "?" + S3URL.canonicalQuery(query) }
        return base
    }

    /// Parameters sorted by encoded name, each `name=value` with both encoded (a flag such as `uploads` is
    /// sent as `uploads=`, which S3 reads the same and SigV4 requires).
    static func canonicalQuery(_ parameters: [(String, String)]) -> String {
        parameters.map { (encode($0.0, keepSlash: false), encode($0.1, keepSlash: false)) }
            .sorted { $0.0 == $1.0 ? $0.1 < $1.1 : $0.0 < $1.0 }
            .map { "\($0.0)=\($0.1)" }
            .joined(separator: "&")
    }

    /// RFC 3986 percent-encoding as SigV4 wants it: unreserved characters kept, every other byte as %XX.
    static func encode(_ text: String, keepSlash: Bool) -> String {
        let hex = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count)
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "~"):
                out.append(byte)
            case UInt8(ascii: "/") where keepSlash:
                out.append(byte)
            default:
                out += [UInt8(ascii: "%"), hex[Int(byte >> 4)], hex[Int(byte & 15)]]
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The reverse, for keys listed with `encoding-type=url` (which S3 uses so that any key survives XML).
    static func decode(_ text: String) -> String {
        guard text.contains("%") || text.contains("+") else { return text }
        var out: [UInt8] = []
        var bytes = Array(text.utf8)[...]
        while let byte = bytes.popFirst() {
            if byte == UInt8(ascii: "%"), bytes.count >= 2,
               let value = UInt8(String(decoding: bytes.prefix(2), as: UTF8.self), radix: 16) {
                out.append(value)
                bytes = bytes.dropFirst(2)
            } else if byte == UInt8(ascii: "+") {
                out.append(UInt8(ascii: " "))
            } else {
                out.append(byte)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// `s3://bucket/key` for messages.
    static func display(bucket: String, key: String? = nil) -> String {
        "s3://\(bucket)/\(key ?? "")"
    }
}
