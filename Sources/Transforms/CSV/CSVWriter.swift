#if canImport(Glibc)
import Glibc
#endif

/// Buffered RFC 4180 writer: fields are quoted only when they contain a comma, a quote or a line break;
/// lines end with LF. Write to a temporary path and `commit()` to rename it into place atomically.
public final class CSVWriter {
    public struct Failure: Error, CustomStringConvertible, Sendable {
        public let description: String
    }

    public let path: String
    private let temporaryPath: String
    private var fd: Int32
    private let buffer = ByteBuffer(capacity: 1 << 17)
    private var flushedBytes = 0
    public private(set) var rows = 0

    /// Bytes written so far, buffered ones included: the offset in the file where the next record starts.
    public var position: Int { flushedBytes + buffer.count }

    /// Writes to `path` through `path.tmp-<pid>`; nothing appears at `path` until `commit()`.
    public init(path: String) throws(Failure) {
        self.path = path
        self.temporaryPath = "\(path).tmp-\(getpid())"
        fd = open(temporaryPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw Failure(description: "cannot create \(temporaryPath): \(String(cString: strerror(errno)))") }
    }

    deinit {
        if fd >= 0 {
            close(fd)
            unlink(temporaryPath)
        }
    }

    public func write(_ fields: [String]) throws(Failure) {
        for (index, field) in fields.enumerated() {
            if index > 0 { buffer.append(0x2C) }
            append(field)
        }
        buffer.append(0x0A)
        rows += 1
        if buffer.count >= 1 << 16 { try flush() }
    }

    /// Writes one record whose fields lie one after another in `bytes`, field `i` ending at `fieldEnds[i]`;
    /// quoted exactly as `write(_:)` quotes Strings.
    func write(_ bytes: UnsafeBufferPointer<UInt8>, fieldEnds: UnsafeBufferPointer<Int>) throws(Failure) {
        // The usual row needs no quotes at all: its values, commas between, in one pass.
        var needsQuotes = false
        for byte in bytes where byte == 0x2C || byte == 0x22 || byte == 0x0A || byte == 0x0D {
            needsQuotes = true
            break
        }
        if !needsQuotes {
            buffer.appendDirectly(maxCount: bytes.count + fieldEnds.count + 1) { target in
                var written = 0
                var fieldStart = 0
                for (index, fieldEnd) in fieldEnds.enumerated() {
                    if index > 0 { target[written] = 0x2C; written += 1 }
                    if fieldEnd > fieldStart, let source = bytes.baseAddress {
                        (target + written).update(from: source + fieldStart, count: fieldEnd - fieldStart)
                        written += fieldEnd - fieldStart
                    }
                    fieldStart = fieldEnd
                }
                target[written] = 0x0A
                return written + 1
            }
            rows += 1
            if buffer.count >= 1 << 16 { try flush() }
            return
        }
        var fieldStart = 0
        for (index, fieldEnd) in fieldEnds.enumerated() {
            if index > 0 { buffer.append(0x2C) }
            append(UnsafeBufferPointer(rebasing: bytes[fieldStart..<fieldEnd]))
            fieldStart = fieldEnd
        }
        buffer.append(0x0A)
        rows += 1
        if buffer.count >= 1 << 16 { try flush() }
    }

    /// Appends bytes that already are CSV records (copied from a file this writer's format produced);
    /// `rows` does not count them.
    func writeEncoded(_ bytes: UnsafeRawBufferPointer) throws(Failure) {
        buffer.append(bytes)
        if buffer.count >= 1 << 16 { try flush() }
    }

    private func append(_ field: String) {
        var field = field
        field.withUTF8 { append($0) }
    }

    private func append(_ field: UnsafeBufferPointer<UInt8>) {
        var needsQuotes = false
        for byte in field where byte == 0x2C || byte == 0x22 || byte == 0x0A || byte == 0x0D {
            needsQuotes = true
            break
        }
        if !needsQuotes {
            buffer.append(field)
            return
        }
        buffer.append(0x22)
        for byte in field {
            if byte == 0x22 { buffer.append(0x22) }
            buffer.append(byte)
        }
        buffer.append(0x22)
    }

    private func flush() throws(Failure) {
        var offset = 0
        while offset < buffer.count {
            let written = Glibc.write(fd, buffer.base + offset, buffer.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                throw Failure(description: "cannot write \(temporaryPath): \(String(cString: strerror(errno)))")
            }
            offset += written
        }
        flushedBytes += buffer.count
        buffer.removeAll()
    }

    /// Flushes, syncs and renames the file into place. `sync: false` skips the fsync, for scratch files that
    /// are read back and deleted within the run (a crash loses them along with the staging folder anyway).
    public func commit(sync: Bool = true) throws(Failure) {
        try flush()
        guard !sync || fsync(fd) == 0 else { throw Failure(description: "cannot sync \(temporaryPath): \(String(cString: strerror(errno)))") }
        close(fd)
        fd = -1
        guard rename(temporaryPath, path) == 0 else {
            unlink(temporaryPath)
            throw Failure(description: "cannot rename \(temporaryPath) to \(path): \(String(cString: strerror(errno)))")
        }
    }
}
