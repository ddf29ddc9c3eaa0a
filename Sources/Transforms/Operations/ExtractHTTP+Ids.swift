import Foundation

extension ExtractHTTP {
    /// Writes records as JSON lines (sorted keys), each with the request that produced it when asked.
    final class LineWriter {
        let output: FileHandle
        let requestField: String?

        init(output: FileHandle, requestField: String?) {
            self.output = output
            self.requestField = requestField
        }

        func write(_ records: [Any], request: String) {
            var buffer = Data()
            for var record in records {
                if let requestField, var object = record as? [String: Any] {
                    object[requestField] = request
                    record = object
                }
                guard JSONSerialization.isValidJSONObject(record) || record is NSNumber || record is String,
                      let line = try? JSONSerialization.data(withJSONObject: record, options: [.sortedKeys, .fragmentsAllowed, .withoutEscapingSlashes]) else { continue }
                buffer.append(line)
                buffer.append(0x0A)
            }
            output.write(buffer)
        }
    }

    struct EachSummary {
        let ids: Int
        let requests: Int
        let records: Int
        let skipped: Int
    }

    /// The largest id list one step fetches: TMDb's discover stops at 500 pages of 20.
    static let maxIds = 100_000

    /// `ids: { from: SOURCE/TABLE, field: id }`: one GET per distinct id read from that bronze table's partition of the
    /// same day, `concurrency` workers sharing the fetcher's rate limit and retry budget. Lines are written in the ids'
    /// order, so a re-run writes the same file.
    static func fetchEach(ids spec: [String: Any], base: String, path: String, recordsField: String?, options: TransformOptions,
                          fetcher: Fetcher, writer: LineWriter, context: TransformContext) throws(TransformError) -> EachSummary {
        for key in spec.keys where !["from", "field"].contains(key) {
            throw TransformError("\(name): unknown field ids.\(key) (fields: from, field)")
        }
        guard let from = spec["from"] as? String else { throw TransformError("\(name): ids.from must name a bronze table, SOURCE/TABLE") }
        let field = spec["field"] as? String ?? "id"
        guard path.contains("{id}") else { throw TransformError("\(name): with 'ids', 'path' must contain {id} (e.g. /movie/{id})") }
        let concurrency = try bounded(options, "concurrency", default: 4, 1...64)
        let skipping = Set(try options.strings("skip_status").map { (text: String) throws(TransformError) -> Int in
            guard let status = Int(text), (400..<600).contains(status) else {
                throw TransformError("\(name): skip_status '\(text)' is not an HTTP error status")
            }
            return status
        })
        let values = try readIds(from: from, field: field, context: context)
        guard !values.isEmpty else {
            throw TransformError("\(name): bronze/\(from) of \(context.ds) holds no '\(field)' to fetch: the step before found nothing")
        }

        final class Work: @unchecked Sendable {
            let lock = NSLock()
            var next = 0
            var bodies: [Data?]
            var failure: TransformError?
            init(count: Int) { bodies = Array(repeating: nil, count: count) }
            func take() -> Int? {
                lock.withLock {
                    guard failure == nil, next < bodies.count else { return nil }
                    next += 1
                    return next - 1
                }
            }
        }
        let work = Work(count: values.count)
        let urls = values.map { base + path.replacingOccurrences(of: "{id}", with: $0.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? $0) }
        DispatchQueue.concurrentPerform(iterations: min(concurrency, values.count)) { _ in
            while let index = work.take() {
                do throws(TransformError) {
                    let body = try fetcher.get(urls[index], skipping: skipping)
                    work.lock.withLock { work.bodies[index] = body }
                } catch {
                    work.lock.withLock { if work.failure == nil { work.failure = error } }
                }
            }
        }
        if let failure = work.failure { throw failure }
        var records = 0, skipped = 0
        for (index, body) in work.bodies.enumerated() {
            guard let body else {
                skipped += 1
                continue
            }
            let json: Any
            do { json = try JSONSerialization.jsonObject(with: body) } catch {
                throw TransformError("\(name): \(display(urls[index])) did not return JSON")
            }
            let list = recordsField == nil ? [json] : try extractRecords(json, field: recordsField, url: display(urls[index]))
            writer.write(list, request: display(urls[index]))
            records += list.count
        }
        // A few ids the API no longer has are normal; most of them is a wrong path or a broken API.
        guard skipped * 2 <= values.count else {
            throw TransformError("\(name): \(skipped) of \(values.count) ids answered \(skipping.sorted().map(String.init).joined(separator: " or ")) (for instance \(display(urls[work.bodies.firstIndex { $0 == nil } ?? 0]))): more than half, so the step fails")
        }
        if skipped > 0 { context.log("extract.http: \(skipped) of \(values.count) ids skipped (status \(skipping.sorted().map(String.init).joined(separator: ", ")))") }
        return EachSummary(ids: values.count, requests: values.count, records: records, skipped: skipped)
    }

    /// The distinct values of `field` (a dotted path) in `bronze/<from>/ds=<ds>/records.jsonl`, first seen first.
    static func readIds(from: String, field: String, context: TransformContext) throws(TransformError) -> [String] {
        let parts = from.split(separator: "/").map(String.init)
        guard parts.count == 2 else { throw TransformError("\(name): ids.from '\(from)' is not SOURCE/TABLE") }
        for part in parts { try Naming.check(part, what: "ids.from", operation: name) }
        let partition = try LakePartition(table: "bronze/\(from)", ds: context.ds)
        let content = try context.lake.content(of: partition)
        guard let file = try context.lake.localPath(of: "records.jsonl", in: content) else {
            throw TransformError("\(name): \(partition) does not exist in the lake; run the step that extracts \(from) first")
        }
        var seen = Set<String>(), values: [String] = []
        try JSONLines.forEach(file) { (object: [String: Any], line: Int) throws(TransformError) in
            guard let value = JSONLines.value(object, path: field), !(value is NSNull) else {
                throw TransformError("\(file):\(line): \(field): missing (ids.field)")
            }
            let text: String
            if let number = value as? NSNumber {
                text = number.stringValue
            } else if let string = value as? String, !string.isEmpty {
                text = string
            } else {
                throw TransformError("\(file):\(line): \(field): not a number or text")
            }
            if seen.insert(text).inserted { values.append(text) }
            guard values.count <= maxIds else { throw TransformError("\(file):\(line): more than \(maxIds) ids to fetch") }
        }
        return values
    }
}
