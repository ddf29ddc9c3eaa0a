import CS3Curl
import Foundation

extension S3Client {
    /// Streams the file up (multipart above the threshold); bounded memory. Returns the ETag.
    /// ifNoneMatch: only if the key does not exist (If-None-Match: *); ifMatch: only if its ETag is this.
    /// A refused condition throws .preconditionFailed.
    public func putObject(bucket: String, key: String, fromFile path: String,
                          ifNoneMatch: Bool = false, ifMatch: String? = nil) throws(S3Error) -> String {
        let operation = "PUT \(S3URL.display(bucket: bucket, key: key))"
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
        if size > Int64(configuration.multipartThreshold) {
            return try MultipartUpload(client: self, bucket: bucket, key: key, operation: operation)
                .run(descriptor: descriptor, size: size, conditions: conditions)
        }
        var request = S3Request(method: "PUT", url: urls.url(bucket: bucket, key: key), operation: operation)
        request.headers = ["Content-Type: application/octet-stream"] + conditions
        request.body = .file(descriptor: descriptor, offset: 0, length: size)
        return try transport.send(request).etag
    }

    public func putObject(bucket: String, key: String, bytes: [UInt8],
                          ifNoneMatch: Bool = false, ifMatch: String? = nil) throws(S3Error) -> String {
        var request = S3Request(method: "PUT", url: urls.url(bucket: bucket, key: key),
                                operation: "PUT \(S3URL.display(bucket: bucket, key: key))")
        request.headers = ["Content-Type: application/octet-stream", "Content-MD5: \(S3Client.contentMD5(bytes))"]
            + conditionHeaders(ifNoneMatch: ifNoneMatch, ifMatch: ifMatch)
        request.body = .bytes(bytes)
        return try transport.send(request).etag
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
    static func contentMD5(_ bytes: [UInt8]) -> String {
        var digest = [UInt8](repeating: 0, count: 16)
        bytes.withUnsafeBufferPointer { buffer in
            digest.withUnsafeMutableBufferPointer { out in
                s3curl_md5(buffer.baseAddress, buffer.count, out.baseAddress)
            }
        }
        return Data(digest).base64EncodedString()
    }
}
