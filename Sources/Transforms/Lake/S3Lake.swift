import Foundation
import S3Client

/// A lake in a bucket of an S3-compatible store (AWS, MinIO, Ceph). S3 cannot rename, so a publish uploads the
/// partition's files under a new version, `_versions/<partition>/<version>/<file>`, then writes the partition's
/// manifest, `<partition>/_manifest.json`, naming that version (a conditional PUT, so two writers do not silently
/// overwrite each other); readers go through the manifest only, and see the old version or the new one whole.
/// The version a publish supersedes stays until the next publish of the partition (or `collectGarbage` once the
/// new manifest is older than its grace), for readers that read the old manifest; what a killed writer left is
/// removed by `collectGarbage`.
/// See docs/decisions/0009-s3-lake-manifest.md.
public struct S3Lake: Lake {
    let client: S3Client
    public let bucket: String
    /// Key prefix of the lake inside the bucket, without slashes around it; may be empty.
    public let prefix: String
    /// Local staging folders (writers stage locally, then upload).
    let stagingRoot: String
    let cache: LakeReadCache
    /// How long `orchestrator lake gc` leaves an unpublished version alone by default; a publish whose upload took
    /// longer refuses to switch the manifest.
    public static let defaultGcGrace: Double = 3600
    var gcGrace: Double
    /// Runs between the uploads and the manifest switch (tests: something removing an uploaded file meanwhile).
    var beforeManifestSwitch: (@Sendable () -> Void)?

    init(client: S3Client, bucket: String, prefix: String, stagingRoot: String, cache: LakeReadCache,
         gcGrace: Double = S3Lake.defaultGcGrace) {
        self.client = client
        self.bucket = bucket
        self.prefix = prefix
        self.stagingRoot = stagingRoot
        self.cache = cache
        self.gcGrace = gcGrace
    }

    public var description: String { "s3://\(bucket)" + (prefix.isEmpty ? "" : "/\(prefix)") }

    func key(_ relative: String) -> String { prefix.isEmpty ? relative : "\(prefix)/\(relative)" }
    func manifestKey(_ partition: LakePartition) -> String { key("\(partition.path)/_manifest.json") }
    /// Versions live outside the partitions' prefixes, so listing a table by delimiter finds only published partitions.
    func versionPrefix(_ partition: LakePartition, _ version: String) -> String { key("_versions/\(partition.path)/\(version)/") }

    /// One line naming the lake and the failed operation (S3Error never carries a secret).
    func failure(_ error: S3Error, _ what: String) -> TransformError {
        TransformError("lake \(description): \(what): \(error.description)")
    }

    public func stage(_ partition: LakePartition) throws(TransformError) -> LakeStaging {
        let folder = "\(stagingRoot)/\(UUID().uuidString)"
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        } catch {
            throw TransformError("cannot create the staging folder \(folder): \(error.localizedDescription)")
        }
        return LakeStaging(partition: partition, folder: folder)
    }

    public func discard(_ staging: LakeStaging) {
        try? FileManager.default.removeItem(atPath: staging.folder)
    }

    public func publish(_ staging: LakeStaging) throws(TransformError) {
        let partition = staging.partition
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: staging.folder)) ?? []).filter { !$0.hasPrefix(".") }.sorted()
        let started = Date()
        let version = S3LakeManifest.newVersion(at: started)
        let versionPrefix = versionPrefix(partition, version)
        var uploaded: [String] = []
        var files: [S3LakeManifest.File] = []
        let previous: (manifest: S3LakeManifest, etag: String)?
        do throws(S3Error) {
            previous = try fetchManifest(partition)
            for name in names {
                let path = staging.path(name)
                let size = ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.int64Value ?? 0
                uploaded.append(versionPrefix + name)
                let etag = try client.putObject(bucket: bucket, key: versionPrefix + name, fromFile: path)
                files.append(S3LakeManifest.File(name: name, size: size, etag: etag))
            }
        } catch {
            // Nothing became current; what was uploaded goes now (or, after a kill, with `orchestrator lake gc`).
            try? client.deleteObjects(bucket: bucket, keys: uploaded)
            throw TransformError("lake \(description): cannot publish \(partition), nothing published: \(error.description)")
        }
        // gc takes a version no manifest names for abandoned once its files are older than its grace period: a
        // publish slower than that may have lost files already, so it must not become current.
        let took = Date().timeIntervalSince(started)
        guard took <= gcGrace else {
            try? client.deleteObjects(bucket: bucket, keys: uploaded)
            throw TransformError("lake \(description): cannot publish \(partition): the upload took \(Int(took))s, longer than"
                                 + " the \(Int(gcGrace))s that `orchestrator lake gc` leaves an unpublished version alone; nothing published")
        }
        // `lake gc --grace` shorter than this upload may have taken the version's first files for an abandoned
        // upload's while a later file was still going up: a version with a file missing must not become current.
        beforeManifestSwitch?()
        let missing: [String]
        do throws(S3Error) {
            let present = Dictionary(try client.list(bucket: bucket, prefix: versionPrefix).objects.map { ($0.key, $0.size) },
                                     uniquingKeysWith: { first, _ in first })
            missing = files.filter { present[versionPrefix + $0.name] != $0.size }.map(\.name)
        } catch {
            try? client.deleteObjects(bucket: bucket, keys: uploaded)
            throw TransformError("lake \(description): cannot publish \(partition): checking the uploaded files: \(error.description); nothing published")
        }
        guard missing.isEmpty else {
            try? client.deleteObjects(bucket: bucket, keys: uploaded)
            throw TransformError("lake \(description): cannot publish \(partition): \(missing.joined(separator: ", ")) went missing from the upload"
                                 + " before the manifest switch (an `orchestrator lake gc` with a grace shorter than the upload?); nothing published")
        }
        let manifest = S3LakeManifest(version: version, published: S3LakeManifest.stamp(Date()), files: files,
                                      previous: previous?.manifest.version)
        do throws(S3Error) {
            // The switch: only over the manifest this writer read (or where there was none).
            _ = try client.putObject(bucket: bucket, key: manifestKey(partition), bytes: manifest.bytes,
                                     ifNoneMatch: previous == nil, ifMatch: previous?.etag)
        } catch {
            // A lost answer (a timeout, a 5xx on the last attempt) may hide an applied switch, and a retry of an
            // applied PUT gets 412: ask the manifest first, and never delete what it may name.
            let current: S3LakeManifest?? = (try? fetchManifest(partition)).map { $0?.manifest }
            if current??.version != version {
                // Delete only on a clear refusal, confirmed by a manifest read that worked.
                guard error.kind == .preconditionFailed, case .some = current else {
                    throw TransformError("lake \(description): cannot publish \(partition): the manifest write got no clear answer and"
                                         + " the manifest does not name this version (its files are left to `orchestrator lake gc`): \(error.description)")
                }
                try? client.deleteObjects(bucket: bucket, keys: uploaded)
                throw TransformError("lake \(description): cannot publish \(partition): another writer published it meanwhile; nothing published")
            }
        }
        // The version just superseded stays for readers that read the old manifest (a gold query over every silver
        // partition); the one before it, superseded by an earlier publish, goes now.
        if let older = previous?.manifest.previous, older != version, older != previous?.manifest.version {
            removeVersion(partition, older)
        }
        discard(staging)
    }

    /// Deletes every object of one version of a partition (best effort: gc finds what is left).
    func removeVersion(_ partition: LakePartition, _ version: String) {
        let prefix = versionPrefix(partition, version)
        guard let objects = try? client.list(bucket: bucket, prefix: prefix).objects, !objects.isEmpty else { return }
        try? client.deleteObjects(bucket: bucket, keys: objects.map(\.key))
    }

    /// The partition's current manifest and its ETag; nil when the partition was never published.
    func manifest(of partition: LakePartition) throws(TransformError) -> (manifest: S3LakeManifest, etag: String)? {
        do { return try fetchManifest(partition) } catch { throw failure(error, "reading \(partition)") }
    }

    func fetchManifest(_ partition: LakePartition) throws(S3Error) -> (manifest: S3LakeManifest, etag: String)? {
        let key = manifestKey(partition)
        guard let found = try client.getObject(bucket: bucket, key: key, maxBytes: S3LakeManifest.maxBytes) else { return nil }
        guard let manifest = S3LakeManifest.decode(found.bytes) else {
            throw S3Error(kind: .badResponse, operation: "GET s3://\(bucket)/\(key)", message: "not a lake manifest")
        }
        return (manifest, found.etag)
    }

    public func content(of partition: LakePartition) throws(TransformError) -> LakeContent {
        guard let (manifest, _) = try manifest(of: partition) else { return LakeContent(partition: partition, files: []) }
        let versionPrefix = versionPrefix(partition, manifest.version)
        return LakeContent(partition: partition, files: manifest.files.map { file in
            LakeFile(name: file.name, size: file.size, etag: file.etag, location: versionPrefix + file.name,
                     displayPath: "\(description)/\(partition.path)/\(file.name)")
        })
    }

    public func localPath(of file: LakeFile) throws(TransformError) -> String {
        try cache.path(for: file) { (destination: String) throws(TransformError) in
            do throws(S3Error) { _ = try client.getObject(bucket: bucket, key: file.location, toFile: destination) } catch {
                throw failure(error, "reading \(file.displayPath)")
            }
        }
    }

    public func partitions(of table: String) throws(TransformError) -> [LakePartition] {
        try LakePartition.validate(table)
        let tablePrefix = key(table) + "/"
        let listed: [String]
        do { listed = try client.list(bucket: bucket, prefix: tablePrefix, delimiter: "/").prefixes } catch {
            throw failure(error, "listing \(table)")
        }
        return listed.compactMap { prefix in
            let name = prefix.dropFirst(tablePrefix.count).split(separator: "/").first.map(String.init) ?? ""
            return LakePartition.child(name, of: table)
        }.sorted()
    }
}
