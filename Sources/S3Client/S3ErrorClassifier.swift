/// Maps what a request ended with — a curl failure, or an HTTP status with S3's error code — to an `S3Error.Kind`.
enum S3ErrorClassifier {
    static func kind(forCode code: String) -> S3Error.Kind? {
        switch code {
        case "NoSuchBucket": .noSuchBucket
        case "NoSuchKey": .noSuchKey
        case "AccessDenied", "AllAccessDisabled", "AccountProblem", "InvalidObjectState": .accessDenied
        case "InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidToken", "ExpiredToken", "TokenRefreshRequired",
             "InvalidSecurity", "MissingSecurityHeader", "InvalidClientTokenId", "UnrecognizedClientException":
            .invalidCredentials
        // A concurrent conditional write raced ours: for the caller it is the same as the condition failing.
        case "PreconditionFailed", "ConditionalRequestConflict": .preconditionFailed
        case "SlowDown", "Throttling", "ThrottlingException", "RequestLimitExceeded", "TooManyRequests",
             "TooManyRequestsException", "RequestThrottled", "XMinioServerNotInitialized": .throttled
        case "InternalError", "ServiceUnavailable", "XMinioStorageFull": .server
        default: nil
        }
    }

    static func kind(forStatus status: Int) -> S3Error.Kind {
        switch status {
        case 404: .noSuchKey
        case 401, 403: .accessDenied
        case 412: .preconditionFailed
        case 429, 503: .throttled
        case 500...599: .server
        default: .invalidRequest
        }
    }

    /// Curl's result codes (curl/curl.h): which are a network failure worth retrying, which are ours.
    static func kind(forCurlCode code: Int32) -> (S3Error.Kind, retryable: Bool) {
        switch code {
        case 28: (.timeout, true)                               // CURLE_OPERATION_TIMEDOUT
        case 5, 6, 7: (.unreachable, true)                      // proxy/host not resolved, could not connect
        case 16, 18, 52, 55, 56, 92: (.unreachable, true)       // HTTP/2 error, partial body, empty reply, send/recv error (resets)
        case 35: (.unreachable, true)                           // TLS handshake failed (often a reset)
        case 23, 26: (.localFile, false)                        // write / read callback failed
        case 3: (.invalidRequest, false)                        // malformed URL
        default: (.unreachable, false)                          // TLS certificate problems and the like: retrying will not help
        }
    }
}
