/// A small, bounded reader for the XML S3 answers with. S3's documents are flat and regular (no CDATA, no
/// comments, no nesting of an element in itself), and a `<` never appears unescaped in text, so finding an
/// element is finding its literal open and close tags. Avoids FoundationXML, which drags libxml2 into the
/// statically linked release binary.
struct S3XML {
    private let bytes: [UInt8]
    private let range: Range<Int>

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
        self.range = 0..<bytes.count
    }

    private init(bytes: [UInt8], range: Range<Int>) {
        self.bytes = bytes
        self.range = range
    }

    /// Every `<name>…</name>` directly or indirectly inside this element, in document order (not nested in
    /// each other: the scan resumes after each close tag).
    func elements(_ name: String) -> [S3XML] {
        let open = Array("<\(name)>".utf8), close = Array("</\(name)>".utf8)
        var found: [S3XML] = []
        var position = range.lowerBound
        while let start = find(open, from: position) {
            let contentStart = start + open.count
            guard let end = find(close, from: contentStart) else { break }
            found.append(S3XML(bytes: bytes, range: contentStart..<end))
            position = end + close.count
        }
        return found
    }

    func first(_ name: String) -> S3XML? {
        let open = Array("<\(name)>".utf8), close = Array("</\(name)>".utf8)
        guard let start = find(open, from: range.lowerBound), let end = find(close, from: start + open.count) else {
            // An empty element, <Name/>, holds the empty text.
            return find(Array("<\(name)/>".utf8), from: range.lowerBound).map { S3XML(bytes: bytes, range: $0..<$0) }
        }
        return S3XML(bytes: bytes, range: (start + open.count)..<end)
    }

    /// The text of the first `<name>` element, entities decoded.
    func text(_ name: String) -> String? { first(name)?.text }

    /// This element's content as text, entities decoded.
    var text: String { S3XML.decodeEntities(String(decoding: bytes[range], as: UTF8.self)) }

    private func find(_ needle: [UInt8], from start: Int) -> Int? {
        guard let first = needle.first, needle.count <= range.upperBound - start else { return nil }
        var index = start
        let last = range.upperBound - needle.count
        while index <= last {
            if bytes[index] == first {
                var matched = true
                for offset in 1..<needle.count where bytes[index + offset] != needle[offset] {
                    matched = false
                    break
                }
                if matched { return index }
            }
            index += 1
        }
        return nil
    }

    static func decodeEntities(_ text: String) -> String {
        guard text.contains("&") else { return text }
        var result = ""
        var rest = Substring(text)
        while let ampersand = rest.firstIndex(of: "&") {
            result += rest[..<ampersand]
            let afterAmpersand = rest.index(after: ampersand)
            guard let semicolon = rest[afterAmpersand...].prefix(12).firstIndex(of: ";") else {
                result += "&"
                rest = rest[afterAmpersand...]
                continue
            }
            let entity = rest[afterAmpersand..<semicolon]
            if let decoded = decode(entity) {
                result += decoded
            } else {
                result += rest[ampersand...semicolon]
            }
            rest = rest[rest.index(after: semicolon)...]
        }
        return result + rest
    }

    private static func decode(_ entity: Substring) -> String? {
        switch entity {
        case "amp": return "&"
        case "lt": return "<"
        case "gt": return ">"
        case "quot": return "\""
        case "apos": return "'"
        default:
            guard entity.hasPrefix("#") else { return nil }
            let number = entity.dropFirst()
            let value = number.hasPrefix("x") || number.hasPrefix("X") ? UInt32(number.dropFirst(), radix: 16) : UInt32(number)
            return value.flatMap(Unicode.Scalar.init).map { String(Character($0)) }
        }
    }

    /// Text escaped for an element's content.
    static func escape(_ text: String) -> String {
        var result = ""
        for character in text {
            switch character {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\"": result += "&quot;"
            case "'": result += "&apos;"
            default: result.append(character)
            }
        }
        return result
    }
}
