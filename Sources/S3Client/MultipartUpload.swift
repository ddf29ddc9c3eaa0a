import Foundation

/// One multipart upload of a file: initiate, send the parts in order, complete — and abort on any failure, so no
/// orphaned parts keep costing storage. Parts are read from the file as they are sent: memory stays bounded by
/// curl's buffers whatever the file's size.
struct MultipartUpload {
    static let minimumPartSize: Int64 = 5 << 20
    static let maximumParts: Int64 = 10_000

    let client: S3Client
    let bucket: String
    let key: String
    let operation: String

    /// The part size used for a file of `size` bytes: the configured one, at least S3's minimum, grown so the
    /// file fits in 10,000 parts.
    static func partSize(configured: Int, fileSize: Int64) -> Int64 {
        var size = max(Int64(configured), minimumPartSize)
        let needed = (fileSize + maximumParts - 1) / maximumParts
        if needed > size { size = (needed + (1 << 20) - 1) / (1 << 20) * (1 << 20) }
        return size
    }

    func run(descriptor: Int32, size: Int64, conditions: [String]) throws(S3Error) -> String {
        let uploadId = try initiate()
        do {
            let partSize = MultipartUpload.partSize(configured: client.configuration.partSize, fileSize: size)
            var etags: [String] = []
            var offset: Int64 = 0
            while offset < size {
                let length = min(partSize, size - offset)
                etags.append(try uploadPart(number: etags.count + 1, uploadId: uploadId, descriptor: descriptor, offset: offset, length: length))
                offset += length
            }
            return try complete(uploadId: uploadId, etags: etags, conditions: conditions)
        } catch {
            abort(uploadId: uploadId)
            throw error
        }
    }

    private func initiate() throws(S3Error) -> String {
        var request = S3Request(method: "POST", url: client.urls.url(bucket: bucket, key: key, query: [("uploads", "")]),
                                operation: operation)
        request.headers = ["Content-Type: application/octet-stream"]
        let response = try client.transport.send(request)
        guard let uploadId = S3XML(response.body).text("UploadId"), !uploadId.isEmpty else {
            throw S3Error(kind: .badResponse, operation: operation, message: "initiating the multipart upload returned no UploadId")
        }
        return uploadId
    }

    private func uploadPart(number: Int, uploadId: String, descriptor: Int32, offset: Int64, length: Int64) throws(S3Error) -> String {
        var request = S3Request(method: "PUT",
                                url: client.urls.url(bucket: bucket, key: key, query: [("partNumber", String(number)), ("uploadId", uploadId)]),
                                operation: "\(operation) (part \(number))")
        request.body = .file(descriptor: descriptor, offset: offset, length: length)
        let response = try client.transport.send(request)
        guard !response.etag.isEmpty else {
            throw S3Error(kind: .badResponse, operation: request.operation, message: "the part was accepted without an ETag")
        }
        return response.etag
    }

    private func complete(uploadId: String, etags: [String], conditions: [String]) throws(S3Error) -> String {
        var document = "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
        for (index, etag) in etags.enumerated() {
            document += "<Part><PartNumber>\(index + 1)</PartNumber><ETag>\(S3XML.escape(etag))</ETag></Part>"
        }
        document += "</CompleteMultipartUpload>"
        let body = Array(document.utf8)
        var request = S3Request(method: "POST", url: client.urls.url(bucket: bucket, key: key, query: [("uploadId", uploadId)]),
                                operation: operation)
        request.headers = ["Content-Type: application/xml", "Content-MD5: \(S3Client.contentMD5(body))"] + conditions
        request.body = .bytes(body)
        var attempt = 1
        guard var response = try send(completion: request, etags: etags) else { return try writtenETag(etags) }
        // S3 may answer 200 and still fail: the error then comes in the body, and an InternalError there is
        // worth another try (completing the same upload again is idempotent).
        while S3XML(response.body).first("Error") != nil {
            var failed = client.transport.httpFailure(response, operation: operation)
            failed.message = "completing the multipart upload failed: " + failed.message
            guard failed.isRetryable, attempt < client.configuration.maxAttempts else {
                if attempt > 1 { failed.message += " (after \(attempt) attempts)" }
                throw failed
            }
            attempt += 1
            guard let next = try send(completion: request, etags: etags) else { return try writtenETag(etags) }
            response = next
        }
        guard let etag = S3XML(response.body).text("ETag"), !etag.isEmpty else {
            throw S3Error(kind: .badResponse, operation: operation, message: "completing the multipart upload returned no ETag")
        }
        return etag
    }

    /// Sends CompleteMultipartUpload; nil when the upload is gone (NoSuchUpload) but the object carries these
    /// parts' multipart ETag: an earlier attempt completed it and its answer was lost.
    private func send(completion request: S3Request, etags: [String]) throws(S3Error) -> S3Response? {
        do {
            return try client.transport.send(request)
        } catch where error.code == "NoSuchUpload" {
            guard let expected = MultipartUpload.multipartETag(etags),
                  (try? client.headObject(bucket: bucket, key: key))?.etag == expected else { throw error }
            return nil
        }
    }

    private func writtenETag(_ etags: [String]) throws(S3Error) -> String {
        guard let etag = MultipartUpload.multipartETag(etags) else {
            throw S3Error(kind: .badResponse, operation: operation, message: "a part's ETag is not an MD5")
        }
        return etag
    }

    /// `"<md5 of the parts' binary MD5s>-<count>"`, as S3 tags a completed multipart upload; nil when a part's
    /// ETag is not a plain MD5.
    static func multipartETag(_ etags: [String]) -> String? {
        var digests: [UInt8] = []
        for etag in etags {
            let hex = Array(etag.trimmingCharacters(in: CharacterSet(charactersIn: "\"")).utf8)
            guard hex.count == 32 else { return nil }
            for index in stride(from: 0, to: 32, by: 2) {
                guard let byte = UInt8(String(decoding: hex[index..<(index + 2)], as: UTF8.self), radix: 16) else { return nil }
                digests.append(byte)
            }
        }
        let hex = S3Client.md5(digests).map { String($0, radix: 16).leftPadded(to: 2) }.joined()
        return "\"\(hex)-\(etags.count)\""
    }

    /// Best effort: the upload already failed, and that failure is the one to report.
    private func abort(uploadId: String) {
        let request = S3Request(method: "DELETE", url: client.urls.url(bucket: bucket, key: key, query: [("uploadId", uploadId)]),
                                operation: "ABORT \(S3URL.display(bucket: bucket, key: key))")
        _ = try? client.transport.send(request)
    }
}
