import Foundation

/// Where pipeline data lives between steps: `bronze/<source>/<table>/ds=YYYY-MM-DD/…`, `silver/<table>/ds=…/`,
/// `gold/<table>/ds=…/`. The seam is about partitions and named files, not paths, so that a local folder and an
/// S3-compatible bucket can both sit behind it. A partition is always replaced whole: files are written into a
/// local staging folder and `publish` makes them current atomically, so a reader (or a crash) never sees half a
/// partition. `LakeFactory` picks the backend from the lake URL.
public protocol Lake: Sendable {
    /// The lake's URL or folder, for messages (never with a secret).
    var description: String { get }
    /// A fresh, empty local staging folder for `partition`.
    func stage(_ partition: LakePartition) throws(TransformError) -> LakeStaging
    /// Makes the staged files (dot files excepted) the partition's whole content, atomically; the previous
    /// content is dropped. On failure the previous content stays current and the staging folder is kept.
    func publish(_ staging: LakeStaging) throws(TransformError)
    /// Drops a staging folder that will not be published.
    func discard(_ staging: LakeStaging)
    /// The published files of a partition, as of one moment (all from the same publish); empty when the
    /// partition does not exist.
    func content(of partition: LakePartition) throws(TransformError) -> LakeContent
    /// A readable local file with the content of `file` (the lake's own file, or a downloaded copy).
    func localPath(of file: LakeFile) throws(TransformError) -> String
    /// The `ds=…` partitions of a table such as `silver/clients`, sorted by date.
    func partitions(of table: String) throws(TransformError) -> [LakePartition]
    /// Removes what killed or failed writers left behind (staging, unreferenced versions) once older than
    /// `grace`, so that a publish in flight is not broken; returns what it removed.
    func collectGarbage(olderThan grace: Double, now: Date) throws(TransformError) -> [String]
}

extension Lake {
    /// A readable local copy of the file `name` of `content`, or nil when the partition has no such file.
    public func localPath(of name: String, in content: LakeContent) throws(TransformError) -> String? {
        guard let file = content.file(named: name) else { return nil }
        return try localPath(of: file)
    }
}
