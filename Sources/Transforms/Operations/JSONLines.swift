import Foundation

/// Reads JSON-lines files (bronze records) one object at a time, with budgets: a line may hold at most
/// `maxLine` bytes, and every error names the file and the line.
enum JSONLines {
    static let maxLine = 16 << 20

    static func forEach(_ path: String, _ body: ([String: Any], Int) throws(TransformError) -> Void) throws(TransformError) {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw TransformError("cannot read \(path)") }
        defer { try? handle.close() }
        var pending = Data()
        var line = 0
        func emit(_ bytes: Data) throws(TransformError) {
            line += 1
            if bytes.isEmpty || bytes.allSatisfy({ $0 == 0x20 || $0 == 0x0D }) { return }
            guard let object = (try? JSONSerialization.jsonObject(with: bytes)) as? [String: Any] else {
                throw TransformError("\(path):\(line): not a JSON object")
            }
            try body(object, line)
        }
        while true {
            let chunk: Data
            do { chunk = try handle.read(upToCount: 1 << 20) ?? Data() } catch { throw TransformError("cannot read \(path): \(error.localizedDescription)") }
            if chunk.isEmpty { break }
            pending.append(chunk)
            var start = pending.startIndex
            while let newline = pending[start...].firstIndex(of: 0x0A) {
                try emit(pending[start..<newline])
                start = pending.index(after: newline)
            }
            pending = Data(pending[start...])
            guard pending.count <= maxLine else { throw TransformError("\(path):\(line + 1): a line longer than \(maxLine) bytes") }
        }
        if !pending.isEmpty { try emit(pending) }
    }

    /// The value at a dotted path (`a.b.c`) of an object; nil when any step is missing.
    static func value(_ object: Any, path: String) -> Any? {
        var current: Any? = object
        for step in path.split(separator: ".") {
            guard let map = current as? [String: Any] else { return nil }
            current = map[String(step)]
        }
        return current
    }
}
