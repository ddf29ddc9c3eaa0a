import Foundation

/// Picks the lake's backend from its URL: a plain path or `file:///path` is a local folder, `s3://bucket/prefix`
/// a bucket of an S3-compatible store (credentials and endpoint from the AWS variables or a named connection).
public enum LakeFactory {
    /// `url` relative paths resolve against `folder`; `home` holds the S3 lake's read cache.
    public static func make(url: String, home: String, folder: String, environment: [String: String],
                            connections: Connections) throws(TransformError) -> any Lake {
        if url.hasPrefix("s3://") {
            return try S3Lake.make(url: url, home: home, environment: environment, connections: connections)
        }
        if url.hasPrefix("file://") {
            let path = String(url.dropFirst("file://".count))
            guard path.hasPrefix("/") else { throw TransformError("lake URL '\(url)': file:// needs an absolute path (file:///srv/lake)") }
            return LocalLake(root: path)
        }
        if url.contains("://") {
            throw TransformError("lake URL '\(Connections.redacted(url))': unknown scheme (a folder, file:///path or s3://bucket/prefix)")
        }
        return LocalLake(root: TransformContext.absolute(url, in: folder))
    }
}
