/// Files being written for one partition, in a local folder that `Lake.publish` makes current.
public struct LakeStaging: Sendable {
    public let partition: LakePartition
    public let folder: String

    public init(partition: LakePartition, folder: String) {
        self.partition = partition
        self.folder = folder
    }

    public func path(_ name: String) -> String { "\(folder)/\(name)" }

    /// The same files, to be published as another partition (silver.clean's rejects go to quarantine/).
    public func retargeted(to partition: LakePartition) -> LakeStaging { LakeStaging(partition: partition, folder: folder) }
}
