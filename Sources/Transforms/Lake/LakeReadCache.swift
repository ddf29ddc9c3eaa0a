import Foundation

/// Local copies of lake files, for readers that need a path (CSV scanners, COPY): kept under a size budget and
/// evicted least recently used first, keyed by the file's ETag and size, so a file published again is fetched
/// again and an unchanged one (the silver tables silver.clean reads for foreign keys, day after day) is not.
/// Shared by the tasks of one home; a copy touched in the last `inUseWindow` is never evicted, since a reader may
/// be about to open it, so the budget can be overrun for a while by files read at once.
struct LakeReadCache: Sendable {
    let folder: String
    let budget: Int64
    var inUseWindow: Double = 600

    static let defaultBudget: Int64 = 512 << 20

    /// The local copy of `file`, fetched with `fetch(destination)` when it is not cached.
    func path(for file: LakeFile, fetch: (String) throws(TransformError) -> Void) throws(TransformError) -> String {
        let path = "\(folder)/\(Self.entryName(file))"
        if FileManager.default.fileExists(atPath: path) {
            utimes(path, nil)  // the access that keeps it in the cache
            return path
        }
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        } catch {
            throw TransformError("cannot create the lake cache \(folder): \(error.localizedDescription)")
        }
        try fetch(path)
        evict(keeping: path)
        return path
    }

    /// `<etag>-<size>-<name>`, in characters safe for a file name.
    static func entryName(_ file: LakeFile) -> String {
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")
        let clean = { (text: String) in String(text.map { allowed.contains($0) ? $0 : "_" }) }
        return "\(clean(file.etag))-\(file.size)-\(clean(file.name))"
    }

    /// Removes the least recently used copies until the cache fits its budget (and stray temporary files).
    func evict(keeping kept: String, now: Date = Date()) {
        let files = FileManager.default
        guard let names = try? files.contentsOfDirectory(atPath: folder) else { return }
        var entries: [(path: String, size: Int64, used: Date)] = []
        for name in names {
            let path = "\(folder)/\(name)"
            guard let attributes = try? files.attributesOfItem(atPath: path),
                  let used = attributes[.modificationDate] as? Date else { continue }
            entries.append((path, (attributes[.size] as? NSNumber)?.int64Value ?? 0, used))
        }
        var total = entries.reduce(Int64(0)) { $0 + $1.size }
        for entry in entries.sorted(by: { $0.used < $1.used }) where total > budget {
            guard entry.path != kept, now.timeIntervalSince(entry.used) > inUseWindow else { continue }
            if (try? files.removeItem(atPath: entry.path)) != nil { total -= entry.size }
        }
    }
}
