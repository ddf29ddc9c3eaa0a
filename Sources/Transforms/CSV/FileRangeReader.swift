#if canImport(Glibc)
import Glibc
#endif

/// Copies byte ranges of a file into a `CSVWriter` through one fixed buffer, without parsing them
/// (silver.clean cuts superseded rows out of its own output this way).
final class FileRangeReader {
    private let fd: Int32
    private let path: String
    private let buffer: UnsafeMutableRawBufferPointer

    init(path: String, bufferSize: Int = 1 << 20) throws(CSVReader.Failure) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw CSVReader.Failure(description: "cannot open \(path): \(String(cString: strerror(errno)))") }
        self.fd = fd
        self.path = path
        buffer = .allocate(byteCount: max(bufferSize, 64), alignment: 16)
    }

    deinit {
        close(fd)
        buffer.deallocate()
    }

    /// File bytes `windowStart ..< windowEnd` are in the buffer: ranges are asked in increasing order, so one
    /// read serves many of them.
    private var windowStart = 0
    private var windowEnd = 0

    func copy(_ range: Range<Int>, to writer: CSVWriter) throws(CSVWriter.Failure) {
        var offset = range.lowerBound
        while offset < range.upperBound {
            if offset < windowStart || offset >= windowEnd { try load(at: offset) }
            let stop = min(range.upperBound, windowEnd)
            try writer.writeEncoded(UnsafeRawBufferPointer(rebasing: buffer[(offset - windowStart)..<(stop - windowStart)]))
            offset = stop
        }
    }

    /// Copies the CSV record starting at `start` (as CSVWriter writes them: quotes balanced, LF at the end)
    /// and returns where the next record starts.
    func copyRecord(at start: Int, to writer: CSVWriter) throws(CSVWriter.Failure) -> Int {
        var offset = start
        var inQuotes = false
        while true {
            if offset < windowStart || offset >= windowEnd { try load(at: offset) }
            let window = UnsafeRawBufferPointer(rebasing: buffer[(offset - windowStart)..<(windowEnd - windowStart)])
            var index = 0
            while index < window.count {
                let byte = window[index]
                index += 1
                if byte == 0x22 { inQuotes.toggle() } else if byte == 0x0A && !inQuotes { break }
            }
            try writer.writeEncoded(UnsafeRawBufferPointer(rebasing: window[..<index]))
            offset += index
            if index > 0 && window[index - 1] == 0x0A && !inQuotes { return offset }
        }
    }

    private func load(at offset: Int) throws(CSVWriter.Failure) {
        var count: Int
        repeat {
            count = pread(fd, buffer.baseAddress, buffer.count, off_t(offset))
        } while count < 0 && errno == EINTR
        guard count > 0 else {
            let reason = count < 0 ? String(cString: strerror(errno)) : "the file ended early"
            throw CSVWriter.Failure(description: "cannot read \(path): \(reason)")
        }
        windowStart = offset
        windowEnd = offset + count
    }
}
