/// Where the bucket lives and how hard to try. With an `endpoint` (MinIO, moto) requests use path-style
/// addressing (`http://host:9000/bucket/key`); without one they go to AWS with virtual-host style.
public struct S3Configuration: Sendable {
    public var endpoint: String?
    public var region: String
    public var credentials: S3Credentials?
    /// Seconds to establish a connection.
    public var connectTimeout: Double
    /// Seconds for a small request (head, list page, delete batch) as a whole; for a streamed body, the longest
    /// time the transfer may stall (under 1 byte/s) before it is abandoned, so a 10 GB upload is not cut short.
    public var requestTimeout: Double
    /// Attempts per request, the first included; retried with exponential backoff and full jitter on 5xx,
    /// 429/SlowDown, timeouts and broken connections — never on other 4xx.
    public var maxAttempts: Int
    /// Base of the backoff: attempt n waits a random time in 0...retryBaseDelay·2^(n-1), capped at retryMaxDelay.
    public var retryBaseDelay: Double
    public var retryMaxDelay: Double
    /// Files above this size are uploaded in parts of `partSize` bytes (at least 5 MiB, S3's minimum; grown when
    /// the file would need more than 10,000 parts).
    public var multipartThreshold: Int
    public var partSize: Int

    public init(endpoint: String? = nil, region: String = "us-east-1", credentials: S3Credentials? = nil,
                connectTimeout: Double = 10, requestTimeout: Double = 60, maxAttempts: Int = 4,
                retryBaseDelay: Double = 0.2, retryMaxDelay: Double = 10,
                multipartThreshold: Int = 64 << 20, partSize: Int = 16 << 20) {
        self.endpoint = endpoint
        self.region = region
        self.credentials = credentials
        self.connectTimeout = connectTimeout
        self.requestTimeout = requestTimeout
        self.maxAttempts = maxAttempts
        self.retryBaseDelay = retryBaseDelay
        self.retryMaxDelay = retryMaxDelay
        self.multipartThreshold = multipartThreshold
        self.partSize = partSize
    }

    /// AWS's conventions: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_REGION,
    /// AWS_DEFAULT_REGION, AWS_ENDPOINT_URL (and AWS_ENDPOINT_URL_S3, which wins). Empty values count as unset.
    public static func fromEnvironment(_ environment: [String: String]) -> S3Configuration {
        func value(_ name: String) -> String? {
            guard let raw = environment[name] else { return nil }
            let trimmed = raw.trimmingWhitespace
            return trimmed.isEmpty ? nil : trimmed
        }
        var configuration = S3Configuration()
        configuration.endpoint = value("AWS_ENDPOINT_URL_S3") ?? value("AWS_ENDPOINT_URL")
        configuration.region = value("AWS_REGION") ?? value("AWS_DEFAULT_REGION") ?? "us-east-1"
        if let keyId = value("AWS_ACCESS_KEY_ID"), let secret = value("AWS_SECRET_ACCESS_KEY") {
            configuration.credentials = S3Credentials(accessKeyId: keyId, secretAccessKey: secret,
                                                      sessionToken: value("AWS_SESSION_TOKEN"))
        }
        return configuration
    }
}

extension String {
    var trimmingWhitespace: String {
        var scalars = Substring(self)
        while let first = scalars.first, first.isWhitespace { scalars = scalars.dropFirst() }
        while let last = scalars.last, last.isWhitespace { scalars = scalars.dropLast() }
        return String(scalars)
    }
}
