/// A small S3 client over libcurl: SigV4 signing, streamed bodies, multipart uploads, paginated listings,
/// conditional writes, and retries of transient failures. Every call is synchronous and may block for the
/// duration of the transfer; the client holds no mutable state, so one instance serves many threads.
public final class S3Client: Sendable {
    public let configuration: S3Configuration
    let transport: S3Transport
    let urls: S3URL

    public init(_ configuration: S3Configuration) throws(S3Error) {
        guard let credentials = configuration.credentials, !credentials.accessKeyId.isEmpty, !credentials.secretAccessKey.isEmpty else {
            throw S3Error(kind: .missingCredentials, operation: "S3 \(configuration.endpoint ?? "AWS")",
                          message: "no credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
        }
        if let endpoint = configuration.endpoint, !(endpoint.hasPrefix("http://") || endpoint.hasPrefix("https://")) {
            throw S3Error(kind: .invalidRequest, operation: "S3 \(S3Transport.hostOf(endpoint))",
                          message: "the endpoint must start with http:// or https://")
        }
        self.configuration = configuration
        self.transport = S3Transport(configuration: configuration, credentials: credentials)
        self.urls = S3URL(endpoint: configuration.endpoint, region: configuration.region)
    }

    /// The object's size and ETag; nil when the key does not exist.
    public func headObject(bucket: String, key: String) throws(S3Error) -> S3ObjectInfo? {
        let request = S3Request(method: "HEAD", url: urls.url(bucket: bucket, key: key),
                                operation: try checkedOperation("HEAD", bucket: bucket, key: key))
        do {
            let response = try transport.send(request)
            return S3ObjectInfo(key: key, size: response.contentLength ?? 0, etag: response.etag)
        } catch where error.status == 404 {
            // A HEAD answer has no body to tell a missing key from a missing bucket: ask the bucket.
            try headBucket(bucket)
            return nil
        }
    }

    /// Succeeds when the bucket exists and these credentials may use it.
    public func headBucket(_ bucket: String) throws(S3Error) {
        let operation = try checkedOperation("HEAD", bucket: bucket, key: nil)
        do {
            _ = try transport.send(S3Request(method: "HEAD", url: urls.url(bucket: bucket), operation: operation))
        } catch where error.status == 404 {
            throw S3Error(kind: .noSuchBucket, operation: operation, message: "HTTP 404: the bucket does not exist", status: 404)
        }
    }

    /// Creates the bucket; one that already exists and is ours is fine.
    public func createBucket(_ bucket: String) throws(S3Error) {
        var request = S3Request(method: "PUT", url: urls.url(bucket: bucket), operation: try checkedOperation("CREATE", bucket: bucket, key: nil))
        if configuration.region != "us-east-1" {
            request.body = .bytes(Array(("<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
                + "<LocationConstraint>\(S3XML.escape(configuration.region))</LocationConstraint></CreateBucketConfiguration>").utf8))
        }
        do {
            _ = try transport.send(request)
        } catch where error.code == "BucketAlreadyOwnedByYou" {
            return
        }
    }

    /// Small objects (manifests) into memory, refused above `maxBytes`. nil when the key does not exist.
    public func getObject(bucket: String, key: String, maxBytes: Int) throws(S3Error) -> (bytes: [UInt8], etag: String)? {
        var request = S3Request(method: "GET", url: urls.url(bucket: bucket, key: key),
                                operation: try checkedOperation("GET", bucket: bucket, key: key))
        request.sink = .memory(maxBytes: maxBytes)
        do {
            let response = try transport.send(request)
            return (response.body, response.etag)
        } catch where error.kind == .noSuchKey {
            return nil
        }
    }
}
