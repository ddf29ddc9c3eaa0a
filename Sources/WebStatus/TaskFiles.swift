import Foundation
import MetadataStore
import SecretMasking

/// Reads attempt logs and transform results for the pages and the API, and refuses any request that would
/// reach outside the logs folder: ids must be plain names (no `/`, no `..`, nothing hidden), and the file as
/// opened (symbolic links resolved, through /proc/self/fd) must be a regular file inside the folder.
struct TaskFiles: Sendable {
    let logsFolder: String
    let logPath: @Sendable (TaskKey, Int) -> String
    let resultPath: @Sendable (TaskKey, Int) -> String
    /// Exact secrets to mask in served logs (the web token, the connections' passwords), besides the password
    /// forms the masker finds by itself; read on each request, so a reload's new connections count at once.
    let secrets: @Sendable () -> [String]
    /// Known secrets are exact matches, so they can be shorter than a guessed form; below 4 bytes they would mask
    /// ordinary words.
    static let minimumSecretLength = 4

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

    /// Opens `path` for reading if it is a regular file inside the logs folder; nil when there is no such file.
    /// Non-blocking and checked after opening, so a FIFO or a link swapped in meanwhile cannot hold or escape.
    func open(_ path: String) throws(RequestRefusal) -> FileHandle? {
        let descriptor = Glibc.open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        let handle = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
        var status = stat()
        guard fstat(descriptor, &status) == 0, (status.st_mode & S_IFMT) == S_IFREG else {
            throw RequestRefusal("that log is not a regular file: refused")
        }
        let opened = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\(descriptor)")) ?? path
        let root = realpath(logsFolder, nil).map { pointer in defer { free(pointer) }; return String(cString: pointer) } ?? logsFolder
        guard opened.hasPrefix(root + "/") else { throw RequestRefusal("that log lies outside the logs folder: refused") }
        return handle
    }

    /// `length` bytes from `offset`; without an offset, the last `length` bytes (the tail first). Secrets are
    /// masked byte for byte (offsets stay true), looking a little beyond the piece so that a window cut in the
    /// middle of a URL cannot reveal its password.
    func log(_ key: TaskKey, tryNumber: Int, offset: Int?, length: Int) throws(RequestRefusal) -> Chunk? {
        try window(key, tryNumber: tryNumber, offset: offset, length: length).map { Self.piece(of: masked($0)) }
    }

    /// How far around a piece the masker looks.
    static let windowMargin = 4096

    /// The bytes of a piece and `windowMargin` around it, unmasked; what another node asks for is this window
    /// masked (`masked`), so that the asking node can mask it again with its own secrets and cut the same piece.
    struct Window {
        var bytes: [UInt8]
        /// File offset of `bytes[0]`.
        var windowStart: Int
        /// The piece: file offsets [start, end) of a file of `size` bytes.
        var start: Int
        var end: Int
        var size: Int

        /// Whether a window (another node's answer) describes a piece of at most `length` bytes from `offset` (or a
        /// tail), its margins no wider than ours, so that a bad answer cannot pass for a log.
        func fits(offset: Int?, length: Int) -> Bool {
            let margin = TaskFiles.windowMargin
            guard windowStart >= 0, windowStart <= start, start <= end, end <= size, end - start <= length,
                  start - windowStart <= margin, bytes.count <= (end - start) + 2 * margin, windowStart + bytes.count <= size else { return false }
            if let offset { return start == min(size, offset) }
            return end == size
        }
    }

    /// The window around `length` bytes from `offset` (the tail without one), read from this node's logs folder.
    func window(_ key: TaskKey, tryNumber: Int, offset: Int?, length: Int) throws(RequestRefusal) -> Window? {
        guard let handle = try open(logPath(key, tryNumber)) else { return nil }
        let size = Int((try? handle.seekToEnd()) ?? 0)
        let start = min(size, max(0, offset.map { $0 } ?? (size - length)))
        let end = min(size, start + length)
        let margin = Self.windowMargin
        let windowStart = max(0, start - margin), windowEnd = min(size, end + margin)
        try? handle.seek(toOffset: UInt64(windowStart))
        let bytes = [UInt8]((try? handle.read(upToCount: windowEnd - windowStart)) ?? Data())
        return Window(bytes: bytes, windowStart: windowStart, start: start, end: end, size: size)
    }

    /// The window with every password form and this node's known secrets masked, byte for byte.
    func masked(_ window: Window) -> Window {
        var window = window
        SecretMasker.mask(&window.bytes, secrets: secrets(), minimumSecretLength: Self.minimumSecretLength)
        return window
    }

    /// The piece a window was read for.
    static func piece(of window: Window) -> Chunk {
        let from = min(window.bytes.count, window.start - window.windowStart)
        let to = min(window.bytes.count, max(from, window.end - window.windowStart))
        return Chunk(bytes: Data(window.bytes[from..<to]), offset: window.start, size: window.size)
    }

    /// The result file of a transform attempt, parsed; nil when the attempt wrote none.
    func result(_ key: TaskKey, tryNumber: Int) throws(RequestRefusal) -> [String: Any]? {
        guard let handle = try open(resultPath(key, tryNumber)), let data = try? handle.readToEnd() else { return nil }
        return (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
    }
}

/// A request refused before it reaches the store or the disk (answered 400).
struct RequestRefusal: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
