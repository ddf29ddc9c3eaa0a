import Foundation
import S3Client

extension S3Lake {
    /// Versions no manifest names (a writer killed or failed before its manifest, or a delete that did not
    /// happen) once their newest object is older than `grace`, the version a manifest superseded once that manifest
    /// is older than `grace`, and local staging folders whose newest file is older than `grace`.
    public func collectGarbage(olderThan grace: Double, now: Date) throws(TransformError) -> [String] {
        var removed = LocalLake.removeStale(in: stagingRoot, olderThan: grace, now: now)
        let root = key("_versions/")
        let objects: [S3ObjectInfo]
        do { objects = try client.list(bucket: bucket, prefix: root).objects } catch {
            throw failure(error, "listing versions")
        }
        // _versions/<table…>/ds=<d>/<version>/<file>
        var byVersion: [String: (partition: LakePartition, version: String, keys: [String], written: [Date])] = [:]
        for object in objects {
            let parts = object.key.dropFirst(root.count).split(separator: "/").map(String.init)
            guard parts.count >= 4, parts[parts.count - 3].hasPrefix("ds="),
                  let partition = LakePartition.child(parts[parts.count - 3], of: parts.dropLast(3).joined(separator: "/")) else { continue }
            let version = parts[parts.count - 2]
            byVersion["\(partition.path)/\(version)", default: (partition, version, [], [])].keys.append(object.key)
            if let written = object.lastModified { byVersion["\(partition.path)/\(version)"]?.written.append(written) }
        }
        var current: [LakePartition: S3LakeManifest?] = [:]
        for (_, entry) in byVersion.sorted(by: { $0.key < $1.key }) {
            if current[entry.partition] == nil { current[entry.partition] = .some(try manifest(of: entry.partition)?.manifest) }
            let manifest = current[entry.partition] ?? nil
            guard manifest?.version != entry.version else { continue }
            if let manifest, manifest.previous == entry.version {
                // Just superseded: readers of the old manifest may still read it, for the grace period.
                if let published = S3LakeManifest.date(ofVersion: manifest.published), now.timeIntervalSince(published) <= grace { continue }
            } else {
                // A publish in flight keeps writing its version: its age is that of its newest object, not its name's
                // start time (an upload may run longer than the grace period).
                if let newest = entry.written.max() ?? S3LakeManifest.date(ofVersion: entry.version),
                   now.timeIntervalSince(newest) <= grace { continue }
            }
            do { try client.deleteObjects(bucket: bucket, keys: entry.keys) } catch {
                throw failure(error, "removing an unreferenced version of \(entry.partition)")
            }
            removed.append("s3://\(bucket)/\(versionPrefix(entry.partition, entry.version))")
        }
        return removed
    }
}
