import Foundation
import MetadataStore

/// Reads attempt logs and transform results for the pages and the API, and refuses any request that would
/// reach outside the logs folder: ids must be plain names (no `/`, no `..`, nothing hidden), and the file's
/// real path (symbolic links resolved) must lie inside the folder.
struct TaskFiles: Sendable {
    let logsFolder: String
    let logPath: @Sendable (TaskKey, Int) -> String
    let resultPath: @Sendable (TaskKey, Int) -> String

    /// A piece of a log: `bytes` are [offset, offset + bytes.count) of a file of `size` bytes. Offsets count
    /// bytes, not characters, so a piece that ends inside a UTF-8 sequence does not shift the next one.
    struct Chunk {
        var bytes: Data
        var offset: Int
        var size: Int
        var end: Int { offset + bytes.count }
        var text: String { String(decoding: bytes, as: UTF8.self) }
    }

    /// Ids come from the request path after percent-decoding, so encoded `..%2F` arrives here as `../`.
    static func checkName(_ value: String, _ what: String) throws(RequestRefusal) {
        if value.isEmpty || value == "." || value == ".." || value.contains("/") || value.contains("\\") || value.contains("\0") {
            throw RequestRefusal("\(what) '\(value)' is not a plain name: refused")
        }
    }

    /// The real path of an existing file inside the logs folder, or nil when there is no such file.
    func contained(_ path: String) throws(RequestRefusal) -> String? {
        guard let real = realpath(path, nil) else { return nil }
        defer { free(real) }
        let resolved = String(cString: real)
        let root = realpath(logsFolder, nil).map { pointer in defer { free(pointer) }; return String(cString: pointer) } ?? logsFolder
        guard resolved.hasPrefix(root + "/") else { throw RequestRefusal("that log lies outside the logs folder: refused") }
        return resolved
    }

    /// `length` bytes from `offset`; without an offset, the last `length` bytes (the tail first).
    func log(_ key: TaskKey, tryNumber: Int, offset: Int?, length: Int) throws(RequestRefusal) -> Chunk? {
        guard let path = try contained(logPath(key, tryNumber)), let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        let size = Int((try? handle.seekToEnd()) ?? 0)
        let start = min(size, max(0, offset ?? (size - length)))
        try? handle.seek(toOffset: UInt64(start))
        let data = (try? handle.read(upToCount: max(0, min(length, size - start)))) ?? Data()
        return Chunk(bytes: data, offset: start, size: size)
    }

    /// The result file of a transform attempt, parsed; nil when the attempt wrote none.
    func result(_ key: TaskKey, tryNumber: Int) throws(RequestRefusal) -> [String: Any]? {
        guard let path = try contained(resultPath(key, tryNumber)), let data = FileManager.default.contents(atPath: path) else { return nil }
        return (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
    }
}

/// A request refused before it reaches the store or the disk (answered 400).
struct RequestRefusal: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
