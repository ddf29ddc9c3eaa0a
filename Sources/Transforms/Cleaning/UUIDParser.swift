/// The text forms a `uuid` column reads: 8-4-4-4-12 hexadecimal digits in either case, optionally wrapped in
/// braces (`{…}`, as .NET and SQL Server write them) or prefixed by `urn:uuid:` (RFC 4122). Stored as the 36
/// lowercase characters. The 32 digits without hyphens are refused: such a value is as likely an MD5 or any
/// other hexadecimal id, and accepting it would hide a wrong column. Any version and variant are accepted,
/// since real systems store v1, v4, v7 and nil UUIDs alike.
public enum UUIDParser {
    static let length = 36

    /// Whether a `uuid` column reads `text` (any of the forms above), for tools that guess column types.
    public static func isUUID(_ text: String) -> Bool { canonical(text) != nil }

    @inline(__always)
    static func isHyphenPosition(_ index: Int) -> Bool { index == 8 || index == 13 || index == 18 || index == 23 }

    /// Each byte's lowercase hexadecimal digit, or 0 when it is not one (a table: no branch per byte).
    private static let lowerHex: [UInt8] = (0..<256).map { byte in
        switch byte {
        case 0x30...0x39, 0x61...0x66: return UInt8(byte)
        case 0x41...0x46: return UInt8(byte | 0x20)
        default: return 0
        }
    }

    /// Writes the lowercase form of the 36 characters at `bytes[start...]` to `write`; false if they are not a UUID.
    @inline(__always)
    static func canonical(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int, write: (Int, UInt8) -> Void) -> Bool {
        guard bytes.count - start >= length,
              bytes[start + 8] == 0x2D, bytes[start + 13] == 0x2D, bytes[start + 18] == 0x2D, bytes[start + 23] == 0x2D else { return false }
        return lowerHex.withUnsafeBufferPointer { table in
            var invalid = false
            for index in 0..<length {
                let byte = bytes[start + index]
                if isHyphenPosition(index) { write(index, byte); continue }
                let digit = table[Int(byte)]
                invalid = invalid || digit == 0
                write(index, digit)
            }
            return !invalid
        }
    }

    /// The canonical text of `text`, or nil when it is none of the accepted forms.
    static func canonical(_ text: String) -> String? {
        var text = text
        return text.withUTF8 { bytes -> String? in
            var start = 0
            var end = bytes.count
            if end == length + 2, bytes.first == 0x7B, bytes.last == 0x7D {  // { … }
                start = 1
                end -= 1
            } else if end == length + 9, String(decoding: UnsafeBufferPointer(rebasing: bytes[0..<9]), as: UTF8.self).lowercased() == "urn:uuid:" {
                start = 9
            }
            guard end - start == length else { return nil }
            var output = [UInt8](repeating: 0, count: length)
            guard canonical(bytes, from: start, write: { output[$0] = $1 }) else { return nil }
            return String(decoding: output, as: UTF8.self)
        }
    }
}
