#if canImport(Glibc)
import Glibc
#endif

/// The same RFC 4180 grammar, line numbers and errors as `CSVReader`, but a record's fields are handed out as
/// bytes instead of Strings: a field is a range of the read buffer, or of a side buffer when quotes had to be
/// removed. Per-row code (silver.clean) then builds no String for the usual field. The bytes of a record stay
/// valid until the next call to `next()`. A record longer than the buffer grows it; memory otherwise stays flat.
final class CSVFieldScanner {
    typealias Failure = CSVReader.Failure

    private let fd: Int32
    private let path: String
    private var buffer: UnsafeMutablePointer<UInt8>
    private var capacity: Int
    private var start = 0
    private var end = 0
    private var exhausted = false
    private var checkedBOM = false
    /// 1-based line where the current record starts, for error messages.
    private(set) var line = 0
    private var nextLine = 1

    /// Fields of quoted values whose bytes are not one run of the buffer (`""` inside, text after the closing quote).
    private var unquoted: UnsafeMutablePointer<UInt8>
    private var unquotedCapacity: Int
    private var unquotedCount = 0

    /// Field `i` of the current record: bytes `fieldStarts[i] ..< fieldEnds[i]` of the buffer, or of `unquoted`
    /// when `fieldStarts[i]` is negative (stored as `-1 - offset`).
    private var fieldStarts: UnsafeMutablePointer<Int>
    private var fieldEnds: UnsafeMutablePointer<Int>
    private var fieldCapacity = 16
    private(set) var fieldCount = 0

    /// The longest record read; past it, an error rather than unbounded memory.
    private let maxRecordBytes: Int

    init(path: String, bufferSize: Int = 1 << 20, maxRecordBytes: Int = 64 << 20) throws(Failure) {
        self.maxRecordBytes = max(maxRecordBytes, 64)
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw Failure(description: "cannot open \(path): \(String(cString: strerror(errno)))") }
        self.fd = fd
        self.path = path
        capacity = max(bufferSize, 64)
        buffer = .allocate(capacity: capacity)
        unquotedCapacity = 256
        unquoted = .allocate(capacity: unquotedCapacity)
        fieldStarts = .allocate(capacity: fieldCapacity)
        fieldEnds = .allocate(capacity: fieldCapacity)
    }

    deinit {
        close(fd)
        buffer.deallocate()
        unquoted.deallocate()
        fieldStarts.deallocate()
        fieldEnds.deallocate()
    }

    /// The bytes of field `index` of the current record (`index < fieldCount`), valid until the next `next()`.
    @inline(__always)
    func field(_ index: Int) -> UnsafeBufferPointer<UInt8> {
        let start = fieldStarts[index]
        if start >= 0 { return UnsafeBufferPointer(start: buffer + start, count: fieldEnds[index] - start) }
        let offset = -1 - start
        return UnsafeBufferPointer(start: unquoted + offset, count: fieldEnds[index] - offset)
    }

    /// The current record as Strings, exactly as `CSVReader.next()` would give it (invalid UTF-8 repaired).
    func strings() -> [String] {
        (0..<fieldCount).map { String(decoding: field($0), as: UTF8.self) }
    }

    /// Moves to the next record; false at the end of the file. A blank line is a record with one empty field,
    /// except at the very end.
    func next() throws(Failure) -> Bool {
        while true {
            if start >= end && !exhausted { try refill() }
            switch try scanRecord() {
            case .record: return true
            case .endOfFile: return false
            case .needsMoreInput: try refill()
            }
        }
    }

    private enum ScanResult { case record, endOfFile, needsMoreInput }

    /// Scans one record from `start`. Changes nothing that a rescan needs when the buffer ends before the record:
    /// the caller then refills (keeping the partial record) and scans it again from its start.
    private func scanRecord() throws(Failure) -> ScanResult {
        fieldCount = 0
        unquotedCount = 0
        var position = start
        var lineBreaks = 0
        let limit = end
        let bytes = buffer
        while true {
            // At the start of a field.
            if position >= limit {
                if !exhausted { return .needsMoreInput }
                if position == start { line = nextLine; return .endOfFile }
                addField(start: position, end: position)  // after a final comma
                return finish(at: position, lineBreaks: lineBreaks)
            }
            if bytes[position] != 0x22 {
                // Unquoted: everything up to a comma or a line end (a quote inside is text).
                let fieldStart = position
                while position < limit {
                    let byte = bytes[position]
                    if byte == 0x2C || byte == 0x0A || byte == 0x0D { break }
                    position += 1
                }
                addField(start: fieldStart, end: position)
            } else {
                // Quoted: the run up to the closing quote stays in the buffer unless `""` or trailing text breaks it.
                position += 1
                let contentStart = position
                var inUnquoted = -1  // offset in `unquoted` once the value is not one run of the buffer
                var runStart = contentStart
                var closed = false
                while !closed {
                    guard position < limit else {
                        if !exhausted { return .needsMoreInput }
                        throw Failure(description: "\(path):\(nextLine): a quoted field is not closed before the end of the file")
                    }
                    let byte = bytes[position]
                    if byte == 0x22 {
                        if position + 1 >= limit && !exhausted { return .needsMoreInput }
                        if position + 1 < limit && bytes[position + 1] == 0x22 {
                            // `""`: keep the first quote of the pair, skip the second.
                            if inUnquoted < 0 { inUnquoted = unquotedCount }
                            appendUnquoted(bytes + runStart, position + 1 - runStart)
                            position += 2
                            runStart = position
                        } else {
                            closed = true
                        }
                        continue
                    }
                    if byte == 0x0A { lineBreaks += 1 }
                    position += 1
                }
                let runEnd = position
                position += 1  // the closing quote
                // Text after the closing quote belongs to the field, quotes included.
                let trailingStart = position
                while position < limit {
                    let byte = bytes[position]
                    if byte == 0x2C || byte == 0x0A || byte == 0x0D { break }
                    position += 1
                }
                if inUnquoted < 0 && trailingStart == position {
                    addField(start: contentStart, end: runEnd)
                } else {
                    if inUnquoted < 0 { inUnquoted = unquotedCount }
                    appendUnquoted(bytes + runStart, runEnd - runStart)
                    appendUnquoted(bytes + trailingStart, position - trailingStart)
                    addUnquotedField(offset: inUnquoted)
                }
            }
            // After a field: a comma, a line end, or the end of the input.
            if position >= limit {
                if !exhausted { return .needsMoreInput }
                return finish(at: position, lineBreaks: lineBreaks)
            }
            let separator = bytes[position]
            position += 1
            if separator == 0x2C { continue }
            if separator == 0x0D {
                if position >= limit && !exhausted { return .needsMoreInput }
                if position < limit && bytes[position] == 0x0A { position += 1 }
            }
            return finish(at: position, lineBreaks: lineBreaks + 1)
        }
    }

    private func finish(at position: Int, lineBreaks: Int) -> ScanResult {
        line = nextLine
        nextLine += lineBreaks
        start = position
        return .record
    }

    @inline(__always)
    private func addField(start: Int, end: Int) {
        if fieldCount == fieldCapacity { growFields() }
        fieldStarts[fieldCount] = start
        fieldEnds[fieldCount] = end
        fieldCount += 1
    }

    private func growFields() {
        let grown = fieldCapacity * 2
        let starts = UnsafeMutablePointer<Int>.allocate(capacity: grown)
        let ends = UnsafeMutablePointer<Int>.allocate(capacity: grown)
        starts.update(from: fieldStarts, count: fieldCount)
        ends.update(from: fieldEnds, count: fieldCount)
        fieldStarts.deallocate()
        fieldEnds.deallocate()
        fieldStarts = starts
        fieldEnds = ends
        fieldCapacity = grown
    }

    private func addUnquotedField(offset: Int) {
        addField(start: -1 - offset, end: unquotedCount)
    }

    private func appendUnquoted(_ source: UnsafePointer<UInt8>, _ count: Int) {
        if unquotedCount + count > unquotedCapacity {
            let grown = max(unquotedCapacity * 2, unquotedCount + count)
            let larger = UnsafeMutablePointer<UInt8>.allocate(capacity: grown)
            larger.update(from: unquoted, count: unquotedCount)
            unquoted.deallocate()
            unquoted = larger
            unquotedCapacity = grown
        }
        (unquoted + unquotedCount).update(from: source, count: count)
        unquotedCount += count
    }

    /// Keeps the unscanned bytes (a partial record), moved to the front, and reads more after them; a record
    /// that fills the whole buffer doubles it.
    private func refill() throws(Failure) {
        guard !exhausted else { return }
        let kept = end - start
        if kept > 0 && start > 0 { buffer.update(from: buffer + start, count: kept) }
        start = 0
        end = kept
        if end == capacity {
            // One record filling the buffer: usually a quote left open, which would otherwise read the whole file.
            guard capacity < maxRecordBytes else {
                throw Failure(description: "\(path):\(nextLine): a record is longer than \(maxRecordBytes >> 20) MiB (a quote left open?)")
            }
            let grown = min(capacity * 2, maxRecordBytes)
            let larger = UnsafeMutablePointer<UInt8>.allocate(capacity: grown)
            larger.update(from: buffer, count: end)
            buffer.deallocate()
            buffer = larger
            capacity = grown
        }
        var count: Int
        repeat {
            count = read(fd, buffer + end, capacity - end)
        } while count < 0 && errno == EINTR
        guard count >= 0 else { throw Failure(description: "cannot read \(path): \(String(cString: strerror(errno)))") }
        if count == 0 { exhausted = true; return }
        end += count
        if !checkedBOM {
            checkedBOM = true
            if end >= 3 && buffer[0] == 0xEF && buffer[1] == 0xBB && buffer[2] == 0xBF { start = 3 }
        }
    }
}
