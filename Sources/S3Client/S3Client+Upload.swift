import CS3Curl
import Foundation

extension S3Client {
    /// Streams the file up (multipart above the threshold); bounded memory. Returns the ETag.
    /// ifNoneMatch: only if the key does not exist (If-None-Match: *); ifMatch: only if its ETag is this.
    /// A refused condition throws .preconditionFailed.
    public func putObject(bucket: String, key: String, fromFile path: String,
                          ifNoneMatch: Bool = false, ifMatch: String? = nil) throws(S3Error) -> String {
        let operation = try checkedOperation("PUT", bucket: bucket, key: key)
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw transport.mask(S3Error(kind: .localFile, operation: operation, message: "cannot open \(path): \(String(cString: strerror(errno)))"))
        }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0, (status.st_mode & S_IFMT) == S_IFREG else {
            throw transport.mask(S3Error(kind: .localFile, operation: operation, message: "\(path) is not a regular file"))
        }
        let size = Int64(status.st_size)
        let conditions = conditionHeaders(ifNoneMatch: ifNoneMatch, ifMatch: ifMatch)
        return try conditional(ifMatch: ifMatch, operation: operation) { () throws(S3Error) in
            // A single PUT takes at most 5 GiB, whatever the threshold says.
            if size > min(Int64(configuration.multipartThreshold), 5 << 30) {
                // The condition is checked before sending gigabytes, and again (atomically) by CompleteMultipartUpload
                // where the server supports it: AWS and MinIO both ways; moto 5.2 only If-None-Match.
                try checkCondition(bucket: bucket, key: key, ifNoneMatch: ifNoneMatch, ifMatch: ifMatch, operation: operation)
                return try MultipartUpload(client: self, bucket: bucket, key: key, operation: operation)
                    .run(descriptor: descriptor, size: size, conditions: conditions)
            }
            var request = S3Request(method: "PUT", url: urls.url(bucket: bucket, key: key), operation: operation)
            request.headers = ["Content-Type: application/octet-stream"] + conditions
            request.body = .file(descriptor: descriptor, offset: 0, length: size)
            return try transport.send(request).etag
        }
    }

    public func putObject(bucket: String, key: String, bytes: [UInt8],
                          ifNoneMatch: Bool = false, ifMatch: String? = nil) throws(S3Error) -> String {
        var request = S3Request(method: "PUT", url: urls.url(bucket: bucket, key: key),
                                operation: try checkedOperation("PUT", bucket: bucket, key: key))
        request.headers = ["Content-Type: application/octet-stream", "Content-MD5: \(S3Client.contentMD5(bytes))"]
            + conditionHeaders(ifNoneMatch: ifNoneMatch, ifMatch: ifMatch)
        request.body = .bytes(bytes)
        do {
            return try conditional(ifMatch: ifMatch, operation: request.operation) { () throws(S3Error) in try transport.send(request).etag }
        } catch where error.kind == .preconditionFailed && error.attempts > 1 {
            // A retried conditional write can be refused because of its own first attempt, which landed but whose
            // answer was lost (a reset, a timeout). If the object now holds exactly these bytes, that is what
            // happened (or an identical write won), and the put succeeded.
            let ownTag = "\"\(S3Client.md5(bytes).map { String($0, radix: 16).leftPadded(to: 2) }.joined())\""
            if let current = try? headObject(bucket: bucket, key: key), current.etag == ownTag { return ownTag }
            throw error
        }
    }

    /// With If-Match, S3 answers 404 NoSuchKey when the key is gone: for the caller that is the condition refused.
    private func conditional(ifMatch: String?, operation: String, _ body: () throws(S3Error) -> String) throws(S3Error) -> String {
        do {
            return try body()
        } catch where ifMatch != nil && error.kind == .noSuchKey {
            throw S3Error(kind: .preconditionFailed, operation: operation, message: "If-Match: the object does not exist", code: error.code, status: error.status)
        }
    }

    private func checkCondition(bucket: String, key: String, ifNoneMatch: Bool, ifMatch: String?, operation: String) throws(S3Error) {
        guard ifNoneMatch || ifMatch != nil else { return }
        let current = try headObject(bucket: bucket, key: key)
        if ifNoneMatch, current != nil {
            throw S3Error(kind: .preconditionFailed, operation: operation, message: "If-None-Match: the object exists", status: 412)
        }
        if let ifMatch, current?.etag.trimmingCharacters(in: ["\""]) != ifMatch.trimmingCharacters(in: ["\""]) {
            throw S3Error(kind: .preconditionFailed, operation: operation, message: "If-Match: the object's ETag is not \(ifMatch.oneLine)", status: 412)
        }
    }

    func conditionHeaders(ifNoneMatch: Bool, ifMatch: String?) -> [String] {
        var headers: [String] = []
        if ifNoneMatch { headers.append("If-None-Match: *") }
        if let ifMatch {
            // S3 compares quoted entity tags; accept the bare hex too.
            let tag = ifMatch.hasPrefix("\"") ? ifMatch : "\"\(ifMatch)\""
            headers.append("If-Match: \(tag.oneLine)")
        }
        return headers
    }

    /// Base64 of the body's MD5: S3 checks it, so a body damaged on the way is refused rather than stored.
    static func contentMD5(_ bytes: [UInt8]) -> String { Data(md5(bytes)).base64EncodedString() }

    static func md5(_ bytes: [UInt8]) -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: 16)
        bytes.withUnsafeBufferPointer { buffer in
            digest.withUnsafeMutableBufferPointer { out in
                s3curl_md5(buffer.baseAddress, buffer.count, out.baseAddress)
            }
        }
        return digest
    }
}

extension String {
    func leftPadded(to length: Int) -> String { count >= length ? self : String(repeating: "0", count: length - count) + self }
}
