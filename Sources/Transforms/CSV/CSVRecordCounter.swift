/// Counts CSV records in a byte stream without parsing fields: line breaks outside quotes, plus a last record
/// that lacks its line break. Used where a file is copied or streamed anyway (extract manifests).
struct CSVRecordCounter {
    private(set) var lineBreaks = 0
    private var inQuotes = false
    private var lastByte: UInt8 = 0x0A
    private var sawBytes = false

    mutating func feed<Bytes: Sequence>(_ bytes: Bytes) where Bytes.Element == UInt8 {
        for byte in bytes {
            if byte == 0x22 { inQuotes.toggle() } else if byte == 0x0A && !inQuotes { lineBreaks += 1 }
            lastByte = byte
            sawBytes = true
        }
    }

    /// Records seen, the header included.
    var records: Int { lineBreaks + (sawBytes && lastByte != 0x0A ? 1 : 0) }
}
