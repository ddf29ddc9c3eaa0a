#if canImport(Glibc)
import Glibc
#endif

/// Streaming RFC 4180 reader: quoted fields with embedded commas, quotes ("") and line breaks, CRLF or LF
/// line ends, a UTF-8 byte-order mark. Reads through a fixed buffer, so memory stays flat for any file size.
/// Invalid UTF-8 is repaired (U+FFFD) rather than fatal; cleaning rules decide what to do with such values.
public final class CSVReader {
    public struct Failure: Error, CustomStringConvertible, Sendable {
        public let description: String
    }

    private let fd: Int32
    private let path: String
    private var buffer: [UInt8]
    private var start = 0
    private var end = 0
    private var exhausted = false
    /// 1-based line where the current record starts, for error messages.
    public private(set) var line = 0
    private var nextLine = 1
    private var checkedBOM = false
    /// A record may not grow past this (a quote left open early would otherwise read the whole file).
    private let maxRecordBytes: Int

    public init(path: String, bufferSize: Int = 1 << 20, maxRecordBytes: Int = 64 << 20) throws(Failure) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw Failure(description: "cannot open \(path): \(String(cString: strerror(errno)))") }
        self.fd = fd
        self.path = path
        self.maxRecordBytes = max(maxRecordBytes, 64)
        self.buffer = [UInt8](repeating: 0, count: max(bufferSize, 64))
    }

    deinit { close(fd) }

    /// The next record's fields, or nil at the end of the file. A blank line is a record with one empty field,
    /// except at the very end.
    public func next() throws(Failure) -> [String]? {
        var fields: [String] = []
        fields.reserveCapacity(16)
        var field: [UInt8] = []
        var inQuotes = false
        var quotedField = false
        var sawAnything = false
        var recordBytes = 0
        line = nextLine
        while true {
            if start >= end {
                try refill()
                if start >= end {
                    // End of file.
                    if inQuotes { throw Failure(description: "\(path):\(line): a quoted field is not closed before the end of the file") }
                    if !sawAnything { return nil }
                    fields.append(Self.string(field))
                    return fields
                }
            }
            let byte = buffer[start]
            start += 1
            sawAnything = true
            recordBytes += 1
            guard recordBytes <= maxRecordBytes else {
                throw Failure(description: "\(path):\(line): a record is longer than \(maxRecordBytes >> 20) MiB (a quote left open?)")
            }
            if inQuotes {
                if byte == 0x22 {  // "
                    if start >= end { try refill() }
                    if start < end && buffer[start] == 0x22 {
                        field.append(0x22)
                        start += 1
                    } else {
                        inQuotes = false
                    }
                } else {
                    if byte == 0x0A { nextLine += 1 }
                    field.append(byte)
                }
                continue
            }
            switch byte {
            case 0x2C:  // ,
                fields.append(Self.string(field))
                field.removeAll(keepingCapacity: true)
                quotedField = false
            case 0x0A:  // LF
                nextLine += 1
                fields.append(Self.string(field))
                return fields
            case 0x0D:  // CR, alone or before LF
                if start >= end { try refill() }
                if start < end && buffer[start] == 0x0A { start += 1 }
                nextLine += 1
                fields.append(Self.string(field))
                return fields
            case 0x22 where field.isEmpty && !quotedField:
                inQuotes = true
                quotedField = true
            default:
                // The rest of an unquoted field usually lies in the buffer: copy it in one go.
                field.append(byte)
                var stop = start
                let limit = end
                buffer.withUnsafeBufferPointer { bytes in
                    while stop < limit {
                        let next = bytes[stop]
                        if next == 0x2C || next == 0x0A || next == 0x0D || next == 0x22 { break }
                        stop += 1
                    }
                }
                if stop > start {
                    recordBytes += stop - start
                    field.append(contentsOf: buffer[start..<stop])
                    start = stop
                }
            }
        }
    }

    private func refill() throws(Failure) {
        guard !exhausted else { return }
        start = 0
        end = 0
        var count: Int
        repeat {
            count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        } while count < 0 && errno == EINTR
        guard count >= 0 else { throw Failure(description: "cannot read \(path): \(String(cString: strerror(errno)))") }
        if count == 0 { exhausted = true; return }
        end = count
        if !checkedBOM {
            checkedBOM = true
            if end >= 3 && buffer[0] == 0xEF && buffer[1] == 0xBB && buffer[2] == 0xBF { start = 3 }
        }
    }

    @inline(__always)
    static func string(_ bytes: [UInt8]) -> String {
        String(decoding: bytes, as: UTF8.self)
    }
}
