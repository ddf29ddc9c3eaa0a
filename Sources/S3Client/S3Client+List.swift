import Foundation

extension S3Client {
    /// ListObjectsV2, all pages. With a delimiter, `prefixes` holds the common prefixes.
    public func list(bucket: String, prefix: String, delimiter: String? = nil) throws(S3Error) -> (objects: [S3ObjectInfo], prefixes: [String]) {
        let operation = try checkedOperation("LIST", bucket: bucket, key: prefix, keyRequired: false)
        var objects: [S3ObjectInfo] = []
        var prefixes: [String] = []
        var token: String?
        var seenTokens: Set<String> = []
        repeat {
            // encoding-type=url: keys holding characters XML 1.0 cannot carry still come back intact.
            var query = [("list-type", "2"), ("prefix", prefix), ("encoding-type", "url")]
            if let delimiter { query.append(("delimiter", delimiter)) }
            if let token { query.append(("continuation-token", token)) }
            var request = S3Request(method: "GET", url: urls.url(bucket: bucket, query: query), operation: operation)
            request.sink = .memory(maxBytes: 16 << 20)
            let page = S3XML(try transport.send(request).body)
            let encoded = page.text("EncodingType") == "url"
            func decoded(_ text: String) -> String { encoded ? S3URL.decode(text) : text }
            for entry in page.elements("Contents") {
                guard let key = entry.text("Key"), let size = entry.text("Size").flatMap({ Int64($0) }) else {
                    throw S3Error(kind: .badResponse, operation: operation, message: "a listed object has no Key or Size")
                }
                objects.append(S3ObjectInfo(key: decoded(key), size: size, etag: entry.text("ETag") ?? "",
                                            lastModified: entry.text("LastModified").flatMap(Self.listingDate)))
            }
            for common in page.elements("CommonPrefixes") {
                if let value = common.text("Prefix") { prefixes.append(decoded(value)) }
            }
            token = nil
            if page.text("IsTruncated") == "true" {
                // A truncated page without a new token would loop forever.
                guard let next = page.text("NextContinuationToken"), !next.isEmpty, seenTokens.insert(next).inserted else {
                    throw S3Error(kind: .badResponse, operation: operation, message: "a truncated listing gave no new continuation token")
                }
                token = next
            }
        } while token != nil
        return (objects, prefixes)
    }

    /// `2026-12-01T11:40:00.000Z` (S3, MinIO) or without the fraction.
    static func listingDate(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = formatter.date(from: text) { return date }
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.date(from: text)
    }

    /// DeleteObjects in batches of 1000 (S3's limit). Keys that do not exist are not an error; a key S3 refuses
    /// to delete is, naming the first such key and how many there were.
    public func deleteObjects(bucket: String, keys: [String]) throws(S3Error) {
        var start = 0
        while start < keys.count {
            let batch = keys[start..<min(start + 1000, keys.count)]
            start += batch.count
            for key in batch.dropFirst() { _ = try checkedOperation("DELETE", bucket: bucket, key: key) }
            var operation = try checkedOperation("DELETE", bucket: bucket, key: batch.first)
            if batch.count > 1 { operation += " (+\(batch.count - 1) keys)" }
            var document = "<Delete xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Quiet>true</Quiet>"
            for key in batch { document += "<Object><Key>\(S3XML.escape(key))</Key></Object>" }
            document += "</Delete>"
            let body = Array(document.utf8)
            var request = S3Request(method: "POST", url: urls.url(bucket: bucket, query: [("delete", "")]), operation: operation)
            request.headers = ["Content-Type: application/xml", "Content-MD5: \(S3Client.contentMD5(body))"]
            request.body = .bytes(body)
            request.sink = .memory(maxBytes: 16 << 20)
            let response = try transport.send(request)
            let errors = S3XML(response.body).elements("Error")
            if let first = errors.first {
                let code = first.text("Code") ?? "unknown"
                let kind = S3ErrorClassifier.kind(forCode: code) ?? .invalidRequest
                throw transport.mask(S3Error(kind: kind, operation: operation,
                                             message: "\(errors.count) key(s) not deleted, first \(first.text("Key") ?? "?"): \(code) \(first.text("Message") ?? "")",
                                             code: code, status: response.status))
            }
        }
    }
}
