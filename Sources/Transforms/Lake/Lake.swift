/// Where pipeline data lives between steps: `bronze/<source>/<table>/ds=YYYY-MM-DD/…`, `silver/<table>/ds=…/`,
/// `gold/<table>/…`. A partition is always replaced whole: files are written into a staging area and
/// `publish` swaps them in atomically, so a reader (or a crash) never sees half a partition.
/// The local folder is the first implementation; an S3-compatible store can follow behind the same protocol.
public protocol Lake: Sendable {
    var description: String { get }
    /// A fresh, empty staging area for `partition` (a path such as `silver/clients/ds=2024-01-01`).
    func stage(_ partition: String) throws(TransformError) -> LakeStaging
    /// Makes the staged files the partition's whole content, atomically; the previous content is dropped.
    func publish(_ staging: LakeStaging) throws(TransformError)
    /// Drops a staging area that will not be published.
    func discard(_ staging: LakeStaging)
    /// Readable local paths of the files of a partition, sorted; empty if the partition does not exist.
    func files(in partition: String) throws(TransformError) -> [String]
    /// The partitions directly under `prefix` (e.g. the `ds=…` folders of a table), sorted.
    func partitions(under prefix: String) throws(TransformError) -> [String]
}

/// Files being written for one partition; `folder` is a local directory.
public struct LakeStaging: Sendable {
    public let partition: String
    public let folder: String

    public init(partition: String, folder: String) {
        self.partition = partition
        self.folder = folder
    }

    public func path(_ name: String) -> String { "\(folder)/\(name)" }
}
