import Foundation

/// `<partition>/_manifest.json` of an S3 lake: which version of the partition is current and its files. Writing
/// it is the one atomic step of a publish (S3 has no rename); readers find files only through it.
struct S3LakeManifest: Codable, Equatable {
    struct File: Codable, Equatable {
        var name: String
        var size: Int64
        var etag: String
    }

    var format = 1
    var version: String
    var published: String
    var files: [File]
    /// The version this one superseded: kept for readers of the old manifest until the next publish (or gc).
    var previous: String?

    /// Manifests are small; anything bigger than this is not one.
    static let maxBytes = 4 << 20

    var bytes: [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return Array((try? encoder.encode(self)) ?? Data())
    }

    static func decode(_ bytes: [UInt8]) -> S3LakeManifest? {
        try? JSONDecoder().decode(S3LakeManifest.self, from: Data(bytes))
    }

    /// `20261201T102000Z-1a2b3c4d`: sorts by time, and tells gc how old an unreferenced version is.
    static func newVersion(at date: Date) -> String {
        "\(stamp(date))-\(UUID().uuidString.prefix(8).lowercased())"
    }

    static func stamp(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        return formatter.string(from: date)
    }

    /// When the version was started; nil for a name this lake did not make.
    static func date(ofVersion version: String) -> Date? {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        return formatter.date(from: String(version.prefix(16)))
    }
}
