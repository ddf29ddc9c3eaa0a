/// A failed S3 operation: what kind of failure, which operation (`PUT s3://bucket/key`), and one line saying what
/// happened. The message never holds a secret: the client masks its credentials out of anything it reports.
public struct S3Error: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        case missingCredentials, noSuchBucket, noSuchKey, accessDenied, invalidCredentials,
             preconditionFailed, unreachable, timeout, throttled, server, badResponse, localFile
        /// Added to the contract: any other refusal of the request (4xx such as InvalidArgument, EntityTooLarge,
        /// BucketAlreadyExists, a wrong region); retrying it would get the same answer.
        case invalidRequest
    }

    public var kind: Kind
    public var operation: String
    public var message: String
    /// The S3 error code (`NoSuchBucket`, `SlowDown`…) when the server sent one.
    public var code: String?
    /// The HTTP status, 0 when no response came.
    public var status: Int

    /// Set for failures whose kind is usually transient but this one is not (a TLS certificate refused).
    var neverRetry = false
    /// Seconds from the server's Retry-After header.
    var retryAfter: Int?
    /// How many attempts the request took before this answer.
    var attempts = 1

    public init(kind: Kind, operation: String, message: String, code: String? = nil, status: Int = 0) {
        self.kind = kind
        self.operation = operation
        self.message = message.oneLine
        self.code = code
        self.status = status
    }

    /// Worth another attempt: the server was busy or broken, or the connection failed; not a refusal.
    public var isRetryable: Bool {
        if neverRetry { return false }
        switch kind {
        case .unreachable, .timeout, .throttled, .server: return true
        default: return false
        }
    }

    public var description: String { "\(operation): \(message)" }
}

extension String {
    /// Control characters and line breaks squeezed to spaces, so an error is always one line.
    var oneLine: String {
        String(String.UnicodeScalarView(unicodeScalars.map { $0.properties.generalCategory == .control ? " " : $0 }))
    }
}
