import Foundation

extension S3Client {
    /// Streams the object into `path` (written to a temp file beside it, renamed when complete).
    /// Memory stays bounded by curl's buffers; the file at `path` is either the whole object or untouched.
    public func getObject(bucket: String, key: String, toFile path: String) throws(S3Error) -> S3ObjectInfo {
        let operation = try checkedOperation("GET", bucket: bucket, key: key)
        let directory = (path as NSString).deletingLastPathComponent
        let name = (path as NSString).lastPathComponent
        var template = Array(((directory.isEmpty ? "." : directory) + "/.\(name).part-XXXXXX").utf8CString)
        let descriptor = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard descriptor >= 0 else {
            throw transport.mask(S3Error(kind: .localFile, operation: operation, message: "cannot create a file beside \(path): \(String(cString: strerror(errno)))"))
        }
        let temporary = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        var renamed = false
        defer {
            close(descriptor)
            if !renamed { unlink(temporary) }
        }
        var request = S3Request(method: "GET", url: urls.url(bucket: bucket, key: key), operation: operation)
        request.sink = .file(descriptor: descriptor)
        let response = try transport.send(request)
        if let expected = response.contentLength, expected != response.bytesWritten {
            throw transport.mask(S3Error(kind: .badResponse, operation: operation,
                          message: "received \(response.bytesWritten) of \(expected) bytes"))
        }
        guard fsync(descriptor) == 0 else {
            throw transport.mask(S3Error(kind: .localFile, operation: operation, message: "cannot write \(path): \(String(cString: strerror(errno)))"))
        }
        guard rename(temporary, path) == 0 else {
            throw transport.mask(S3Error(kind: .localFile, operation: operation, message: "cannot rename the download to \(path): \(String(cString: strerror(errno)))"))
        }
        renamed = true
        return S3ObjectInfo(key: key, size: response.bytesWritten, etag: response.etag)
    }
}
