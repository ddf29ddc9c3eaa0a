/// One HTTP request to S3, before signing.
struct S3Request {
    enum Body {
        case none
        case bytes([UInt8])
        /// `length` bytes of the open file `descriptor` from `offset`, read as curl sends them.
        case file(descriptor: Int32, offset: Int64, length: Int64)
    }

    enum Sink {
        /// Kept in memory, refused beyond `maxBytes`.
        case memory(maxBytes: Int)
        /// A successful body is written to the open file `descriptor` (rewound before each attempt).
        case file(descriptor: Int32)
    }

    var method: String
    var url: String
    /// `PUT s3://bucket/key`, for errors.
    var operation: String
    var headers: [String] = []
    var body: Body = .none
    var sink: Sink = .memory(maxBytes: 1 << 20)
    /// Bytes already in a file sink, when an attempt resumes a download.
    var sinkOffset: Int64 = 0
    /// Streamed bodies have no total timeout, only the stall timeout.
    var streamed: Bool { if case .file = body { return true }; if case .file = sink { return true }; return false }
}

/// What came back: the status, the headers S3Client reads, and the body when kept in memory (or an error's).
struct S3Response {
    var status: Int
    var body: [UInt8]
    var etag: String
    var contentLength: Int64?
    var retryAfter: Int?
    var bytesWritten: Int64
}
