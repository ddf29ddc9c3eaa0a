import Foundation

/// What a listing or a head request says of one object. `etag` is the entity tag as S3 sends it, quotes included
/// (`"9b2cf535f27731c974343645a3985328"`), ready to pass back as `ifMatch`.
public struct S3ObjectInfo: Sendable, Equatable {
    public var key: String
    public var size: Int64
    public var etag: String
    /// When the object was last written, as a listing reports it (nil from a head or get request).
    public var lastModified: Date?

    public init(key: String, size: Int64, etag: String, lastModified: Date? = nil) {
        self.key = key
        self.size = size
        self.etag = etag
        self.lastModified = lastModified
    }
}
