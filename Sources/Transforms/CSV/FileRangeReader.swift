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
            if offset < windowStart || offset >= windowEnd {
                let count = pread(fd, buffer.baseAddress, buffer.count, off_t(offset))
                if count < 0 && errno == EINTR { continue }
                guard count > 0 else {
                    let reason = count < 0 ? String(cString: strerror(errno)) : "the file ended early"
                    throw CSVWriter.Failure(description: "cannot read \(path): \(reason)")
                }
                windowStart = offset
                windowEnd = offset + count
            }
            let stop = min(range.upperBound, windowEnd)
            try writer.writeEncoded(UnsafeRawBufferPointer(rebasing: buffer[(offset - windowStart)..<(stop - windowStart)]))
            offset = stop
        }
    }
}
