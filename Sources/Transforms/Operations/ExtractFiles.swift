import Foundation

/// `extract.files`: copies the day's source files into bronze unchanged, with their size, SHA-256 and row
/// count in a manifest (a Parquet file's rows are read from its footer by DuckDB, which also checks that it is
/// Parquet). Options: `source` (bronze folder name), `files` (globs, relative to the DAG folder,
/// usually with `{{ ds }}`), `required` (default true: fail when nothing matches).
/// Each file becomes table `<file name without extension>`: `bronze/<source>/<table>/ds=<ds>/<file>`.
public enum ExtractFiles: TransformOperation {
    public static let name = "extract.files"

    public static func run(_ options: TransformOptions, _ context: TransformContext) throws(TransformError) {
        try options.allowOnly(["source", "files", "required"])
        let source = try options.string("source")
        try Naming.check(source, what: "source", operation: name)
        let patterns = try options.strings("files")
        guard !patterns.isEmpty else { throw TransformError("\(name): option 'files' needs at least one glob") }
        var matches: [String] = []
        for pattern in patterns { matches += Glob.expand(context.resolve(pattern)) }
        if matches.isEmpty {
            if try options.bool("required", default: true) {
                throw TransformError("\(name): no file matches \(patterns.joined(separator: ", ")) (in \(context.folder))")
            }
            context.log("extract.files: no file matches \(patterns.joined(separator: ", ")); nothing to do")
            return
        }
        for file in matches {
            let fileName = (file as NSString).lastPathComponent
            let table = (fileName as NSString).deletingPathExtension
            try Naming.check(table, what: "table (from file \(fileName))", operation: name)
            let partition = try LakePartition(table: "bronze/\(source)/\(table)", ds: context.ds)
            let staging = try context.lake.stage(partition)
            do {
                var copy = try FileCopy.copy(from: file, to: staging.path(fileName), countCSVRows: fileName.hasSuffix(".csv"))
                if fileName.hasSuffix(".parquet") {
                    copy.rows = try ParquetFiles.rowCount(staging.path(fileName), what: "\(name): reading \(file)")
                }
                let manifest: [String: Any] = [
                    "source_path": file, "file": fileName, "bytes": copy.bytes, "sha256": copy.sha256,
                    "rows": copy.rows.map { $0 as Any } ?? NSNull(), "ds": context.ds, "run_id": context.runId,
                ]
                try JSONFile.write(manifest, to: staging.path("_manifest.json"))
                try context.lake.publish(staging)
                context.results.output("\(partition)/\(fileName)", rows: copy.rows)
                context.log("extract.files: \(fileName) → \(partition) (\(copy.bytes) bytes, \(copy.rows.map { "\($0) rows, " } ?? "")sha256 \(copy.sha256.prefix(12))…)")
            } catch {
                context.lake.discard(staging)
                throw error as? TransformError ?? TransformError("\(error)")
            }
        }
    }
}

enum Glob {
    /// Matching paths, sorted; a pattern without wildcards matches itself if it exists.
    static func expand(_ pattern: String) -> [String] {
        var result = glob_t()
        defer { globfree(&result) }
        guard glob(pattern, 0, nil, &result) == 0 else { return [] }
        var paths: [String] = []
        for index in 0..<Int(result.gl_pathc) {
            if let path = result.gl_pathv[index] { paths.append(String(cString: path)) }
        }
        return paths.sorted()
    }
}

enum FileCopy {
    struct Result {
        let bytes: Int
        let sha256: String
        /// CSV records after the header, counting quoted line breaks correctly (a Parquet file's rows).
        var rows: Int?
    }

    static func copy(from source: String, to destination: String, countCSVRows: Bool) throws(TransformError) -> Result {
        let input = open(source, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else { throw TransformError("cannot open \(source): \(String(cString: strerror(errno)))") }
        defer { close(input) }
        let output = open(destination, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard output >= 0 else { throw TransformError("cannot create \(destination): \(String(cString: strerror(errno)))") }
        defer { close(output) }
        var hasher = SHA256()
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        var total = 0
        var counter = CSVRecordCounter()
        while true {
            let count = buffer.withUnsafeMutableBytes { read(input, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count >= 0 else { throw TransformError("cannot read \(source): \(String(cString: strerror(errno)))") }
            if count == 0 { break }
            let failure: TransformError? = buffer.withUnsafeBytes { raw in
                let chunk = UnsafeRawBufferPointer(rebasing: raw[0..<count])
                hasher.update(chunk)
                var offset = 0
                while offset < count {
                    let written = write(output, chunk.baseAddress.map { $0 + offset }, count - offset)
                    if written < 0 {
                        if errno == EINTR { continue }
                        return TransformError("cannot write \(destination): \(String(cString: strerror(errno)))")
                    }
                    offset += written
                }
                if countCSVRows { counter.feed(chunk) }
                return nil
            }
            if let failure { throw failure }
            total += count
        }
        guard fsync(output) == 0 else { throw TransformError("cannot sync \(destination)") }
        return Result(bytes: total, sha256: hasher.finalize(), rows: countCSVRows ? max(0, counter.records - 1) : nil)
    }
}

enum JSONFile {
    static func write(_ object: Any, to path: String) throws(TransformError) {
        do {
            let data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
            try data.write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw TransformError("cannot write \(path): \(error.localizedDescription)")
        }
    }

    static func read(_ path: String) throws(TransformError) -> [String: Any] {
        guard let data = FileManager.default.contents(atPath: path),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw TransformError("cannot read \(path) as a JSON object")
        }
        return object
    }
}

enum Naming {
    /// Table, source and column names become paths and SQL identifiers: keep them plain.
    static func check(_ name: String, what: String, operation: String) throws(TransformError) {
        let valid = !name.isEmpty && name.unicodeScalars.allSatisfy {
            ($0.value >= 97 && $0.value <= 122) || ($0.value >= 48 && $0.value <= 57) || $0 == "_" || ($0.value >= 65 && $0.value <= 90)
        } && !(name.first?.isNumber ?? true)
        guard valid else { throw TransformError("\(operation): \(what) '\(name)' must be letters, digits and _ (not starting with a digit)") }
    }
}
