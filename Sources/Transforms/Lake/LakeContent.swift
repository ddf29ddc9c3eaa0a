/// The files of one partition as published together, sorted by name.
public struct LakeContent: Sendable, Equatable {
    public let partition: LakePartition
    public let files: [LakeFile]

    public init(partition: LakePartition, files: [LakeFile]) {
        self.partition = partition
        self.files = files.sorted { $0.name < $1.name }
    }

    public var names: [String] { files.map(\.name) }
    public var isEmpty: Bool { files.isEmpty }

    public func file(named name: String) -> LakeFile? { files.first { $0.name == name } }
}

/// One published file of a partition. `location` is the backend's own address (a local path, an object key);
/// `displayPath` is what messages show.
public struct LakeFile: Sendable, Equatable {
    public let name: String
    public let size: Int64
    /// Changes whenever the content does (an S3 ETag; empty for the local lake, which reads in place).
    public let etag: String
    public let location: String
    public let displayPath: String

    public init(name: String, size: Int64, etag: String, location: String, displayPath: String) {
        self.name = name
        self.size = size
        self.etag = etag
        self.location = location
        self.displayPath = displayPath
    }
}
