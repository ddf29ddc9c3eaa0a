import CSystemCalls
import Foundation

/// A lake in a local folder. Partitions are swapped in with renameat2(RENAME_EXCHANGE): readers see the old
/// partition or the new one, never a mix, and a crash leaves the old one in place. Files are read in place.
public struct LocalLake: Lake {
    public let root: String

    public init(root: String) {
        self.root = root
    }

    public var description: String { root }

    func absolute(_ partition: LakePartition) -> String { "\(root)/\(partition.path)" }

    /// Where staging folders live: inside the lake, so that publishing is a rename on one file system.
    var stagingRoot: String { "\(root)/.staging" }

    public func stage(_ partition: LakePartition) throws(TransformError) -> LakeStaging {
        let folder = "\(stagingRoot)/\(UUID().uuidString)"
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        } catch {
            throw TransformError("cannot create the staging folder \(folder): \(error.localizedDescription)")
        }
        return LakeStaging(partition: partition, folder: folder)
    }

    public func publish(_ staging: LakeStaging) throws(TransformError) {
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

    public func content(of partition: LakePartition) throws(TransformError) -> LakeContent {
        let folder = absolute(partition)
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder) else {
            return LakeContent(partition: partition, files: [])
        }
        let files = names.filter { !$0.hasPrefix(".") }.map { name in
            let path = "\(folder)/\(name)"
            let size = ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.int64Value ?? 0
            return LakeFile(name: name, size: size, etag: "", location: path, displayPath: path)
        }
        return LakeContent(partition: partition, files: files)
    }

    public func localPath(of file: LakeFile) throws(TransformError) -> String { file.location }

    public func partitions(of table: String) throws(TransformError) -> [LakePartition] {
        try LakePartition.validate(table)
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: "\(root)/\(table)") else { return [] }
        return names.compactMap { LakePartition.child($0, of: table) }.sorted()
    }

    /// Staging folders left by killed writers, older than `grace` (a publish in flight keeps its own).
    public func collectGarbage(olderThan grace: Double, now: Date) throws(TransformError) -> [String] {
        Self.removeStale(in: stagingRoot, olderThan: grace, now: now)
    }

    /// Removes the entries of `folder` whose newest file (or the entry itself) was modified more than `grace` seconds
    /// before `now`; returns their paths. A folder's own mtime does not change while a file inside it grows.
    static func removeStale(in folder: String, olderThan grace: Double, now: Date) -> [String] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder) else { return [] }
        var removed: [String] = []
        for name in names.sorted() {
            let path = "\(folder)/\(name)"
            guard let modified = newestModification(under: path),
                  now.timeIntervalSince(modified) > grace, (try? FileManager.default.removeItem(atPath: path)) != nil else { continue }
            removed.append(path)
        }
        return removed
    }

    /// The newest mtime of `path` and, for a folder, of everything inside it.
    static func newestModification(under path: String) -> Date? {
        let manager = FileManager.default
        var newest = (try? manager.attributesOfItem(atPath: path))?[.modificationDate] as? Date
        guard let inside = manager.enumerator(atPath: path) else { return newest }
        while let relative = inside.nextObject() as? String {
            guard let modified = (try? manager.attributesOfItem(atPath: "\(path)/\(relative)"))?[.modificationDate] as? Date else { continue }
            if newest.map({ modified > $0 }) ?? true { newest = modified }
        }
        return newest
    }

    static func sync(_ path: String) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return }
        fsync(fd)
        close(fd)
    }
}
