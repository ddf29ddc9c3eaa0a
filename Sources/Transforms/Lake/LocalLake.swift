import CSystemCalls
import Foundation

/// A lake in a local folder. Partitions are swapped in with renameat2(RENAME_EXCHANGE): readers see the old
/// partition or the new one, never a mix, and a crash leaves the old one in place.
public struct LocalLake: Lake {
    public let root: String

    public init(root: String) {
        self.root = root
    }

    public var description: String { root }

    func absolute(_ partition: String) -> String { "\(root)/\(partition)" }

    public func stage(_ partition: String) throws(TransformError) -> LakeStaging {
        try Self.validate(partition)
        let folder = "\(root)/.staging/\(UUID().uuidString)"
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        } catch {
            throw TransformError("cannot create the staging folder \(folder): \(error.localizedDescription)")
        }
        return LakeStaging(partition: partition, folder: folder)
    }

    public func publish(_ staging: LakeStaging) throws(TransformError) {
        try Self.validate(staging.partition)  // LakeStaging can be built by hand
        let target = absolute(staging.partition)
        let parent = (target as NSString).deletingLastPathComponent
        do {
            try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
        } catch {
            throw TransformError("cannot create \(parent): \(error.localizedDescription)")
        }
        // Make the staged files durable before they become visible.
        for name in (try? FileManager.default.contentsOfDirectory(atPath: staging.folder)) ?? [] {
            Self.sync(staging.path(name))
        }
        Self.sync(staging.folder)
        if FileManager.default.fileExists(atPath: target) {
            guard orchestrator_rename_exchange(staging.folder, target) == 0 else {
                throw TransformError("cannot swap in partition \(staging.partition): \(String(cString: strerror(errno)))")
            }
            try? FileManager.default.removeItem(atPath: staging.folder)  // now holds the previous content
        } else {
            guard rename(staging.folder, target) == 0 else {
                throw TransformError("cannot publish partition \(staging.partition): \(String(cString: strerror(errno)))")
            }
        }
        Self.sync(parent)
    }

    public func discard(_ staging: LakeStaging) {
        try? FileManager.default.removeItem(atPath: staging.folder)
    }

    public func files(in partition: String) throws(TransformError) -> [String] {
        try Self.validate(partition)
        let folder = absolute(partition)
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder) else { return [] }
        return names.filter { !$0.hasPrefix(".") }.sorted().map { "\(folder)/\($0)" }
    }

    public func partitions(under prefix: String) throws(TransformError) -> [String] {
        try Self.validate(prefix)
        let folder = absolute(prefix)
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder) else { return [] }
        return names.filter { !$0.hasPrefix(".") }.sorted().map { "\(prefix)/\($0)" }
    }

    /// Partition paths are built from DAG options: keep them inside the lake.
    static func validate(_ partition: String) throws(TransformError) {
        let parts = partition.split(separator: "/", omittingEmptySubsequences: false)
        guard !partition.isEmpty, !partition.hasPrefix("/"), !parts.contains(where: { $0 == ".." || $0 == "." || $0.isEmpty }) else {
            throw TransformError("'\(partition)' is not a lake path (relative, no '..' or empty parts)")
        }
    }

    static func sync(_ path: String) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return }
        fsync(fd)
        close(fd)
    }
}
