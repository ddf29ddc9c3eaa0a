import Foundation
import S3Client

extension S3Lake {
    /// Versions no manifest names (a writer killed or failed before its manifest, or a delete that did not
    /// happen) and local staging folders, once older than `grace`.
    public func collectGarbage(olderThan grace: Double, now: Date) throws(TransformError) -> [String] {
        var removed = LocalLake.removeStale(in: stagingRoot, olderThan: grace, now: now)
        let root = key("_versions/")
        let objects: [S3ObjectInfo]
        do { objects = try client.list(bucket: bucket, prefix: root).objects } catch {
            throw failure(error, "listing versions")
        }
        // _versions/<table…>/ds=<d>/<version>/<file>
        var byVersion: [String: (partition: LakePartition, version: String, keys: [String])] = [:]
        for object in objects {
            let parts = object.key.dropFirst(root.count).split(separator: "/").map(String.init)
            guard parts.count >= 4, parts[parts.count - 3].hasPrefix("ds="),
                  let partition = LakePartition.child(parts[parts.count - 3], of: parts.dropLast(3).joined(separator: "/")) else { continue }
            let version = parts[parts.count - 2]
            byVersion["\(partition.path)/\(version)", default: (partition, version, [])].keys.append(object.key)
        }
        var current: [LakePartition: String?] = [:]
        for (_, entry) in byVersion.sorted(by: { $0.key < $1.key }) {
            if current[entry.partition] == nil { current[entry.partition] = .some(try manifest(of: entry.partition)?.manifest.version) }
            guard current[entry.partition] != .some(entry.version) else { continue }
            // A version younger than the grace period may belong to a publish in flight.
            if let started = S3LakeManifest.date(ofVersion: entry.version), now.timeIntervalSince(started) <= grace { continue }
            do { try client.deleteObjects(bucket: bucket, keys: entry.keys) } catch {
                throw failure(error, "removing an unreferenced version of \(entry.partition)")
            }
            removed.append("s3://\(bucket)/\(versionPrefix(entry.partition, entry.version))")
        }
        return removed
    }
}
