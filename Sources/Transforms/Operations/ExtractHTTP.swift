import CCurlShim
import Foundation

/// `extract.http`: pages through a JSON API with libcurl and writes the raw records to bronze as JSON lines.
/// Options:
/// - `connection`: a connection whose URL is the API's base (`https://TOKEN@api.example.com/v1`: the user part
///   is sent as a bearer token, never logged), or `url` for an API without credentials; with both, `url` is the
///   base used while the connection is not configured (so a DAG can default to a public API);
/// - `path`: appended to the base (templated by the DAG: `/events?since={{ data_interval_start }}`);
/// - `source`, `table`: bronze location; `records`: the field holding the page's records (default: the body
///   itself when it is an array, else `data`, `items` or `results`);
/// - `pagination`: `{ type: page, param: page, size_param: per_page, size: 100, total_pages_field: total_pages }`,
///   `{ type: cursor, param: cursor, field: next_cursor }`, or none (one request);
/// - `ids`: `{ from: SOURCE/TABLE, field: id }`: one request per distinct id of that bronze table (same day), `{id}` in
///   `path` replaced by it, `concurrency` (default 4) at a time; `skip_status: [404]` skips ids the API no longer has;
/// - `request_field`: adds the request that produced each line (URL without credentials) under that key;
/// - `max_pages` (default 10000), `requests_per_second` (default 10, shared by all workers), `retries` (default 5 per
///   request; a 429 or 5xx is retried after its Retry-After, else with backoff from 1 s doubling), `retry_budget`
///   (default 1000 for the step), `timeout` seconds per request (30), `max_response_bytes` (default 64 MiB).
public enum ExtractHTTP: TransformOperation {
    public static let name = "extract.http"

    public static func run(_ options: TransformOptions, _ context: TransformContext) throws(TransformError) {
        try options.allowOnly(["connection", "url", "path", "source", "table", "records", "pagination", "max_pages",
                               "requests_per_second", "retries", "retry_budget", "timeout", "ids", "concurrency", "skip_status",
                               "request_field", "max_response_bytes"])
        let source = try options.string("source"), table = try options.string("table")
        try Naming.check(source, what: "source", operation: name)
        try Naming.check(table, what: "table", operation: name)
        let (base, token) = try endpoint(options, context)
        let path = try options.optionalString("path") ?? ""
        let recordsField = try options.optionalString("records")
        let requestField = try options.optionalString("request_field")
        let pagination = try options.object("pagination") ?? [:]
        let kind = pagination["type"] as? String ?? "none"
        guard ["none", "page", "cursor"].contains(kind) else {
            throw TransformError("\(name): pagination type '\(kind)' is not one of page, cursor")
        }
        let maxPages = try bounded(options, "max_pages", default: 10_000, 1...1_000_000)
        let fetcher = Fetcher(token: token, requestsPerSecond: try bounded(options, "requests_per_second", default: 10, 1...10_000),
                              retries: try bounded(options, "retries", default: 5, 0...100),
                              retryBudget: try bounded(options, "retry_budget", default: 1000, 0...1_000_000),
                              timeout: try bounded(options, "timeout", default: 30, 1...3600),
                              maxBody: try bounded(options, "max_response_bytes", default: 64 << 20, 1024...(1 << 30)), log: context.log)
        orchestrator_http_global_init()

        let partition = try LakePartition(table: "bronze/\(source)/\(table)", ds: context.ds)
        let staging = try context.lake.stage(partition)
        do {
            guard FileManager.default.createFile(atPath: staging.path("records.jsonl"), contents: nil),
                  let output = FileHandle(forWritingAtPath: staging.path("records.jsonl")) else {
                throw TransformError("cannot create \(staging.path("records.jsonl"))")
            }
            let writer = LineWriter(output: output, requestField: requestField)
            var records = 0, pages = 0
            var manifest: [String: Any] = [:]
            if let ids = try options.object("ids") {
                guard kind == "none" else { throw TransformError("\(name): give 'ids' or 'pagination', not both") }
                let summary = try fetchEach(ids: ids, base: base, path: path, recordsField: recordsField, options: options,
                                            fetcher: fetcher, writer: writer, context: context)
                (records, pages) = (summary.records, summary.requests)
                manifest["ids"] = summary.ids
                manifest["skipped"] = summary.skipped
            } else {
                var page = (pagination["start"] as? Int) ?? 1
                var cursor: String?
                while pages < maxPages {
                    var url = base + path
                    var query: [String] = []
                    if kind == "page" {
                        query.append("\(pagination["param"] as? String ?? "page")=\(page)")
                        if let sizeParam = pagination["size_param"] as? String { query.append("\(sizeParam)=\(pagination["size"] as? Int ?? 100)") }
                    } else if kind == "cursor", let cursor {
                        query.append("\(pagination["param"] as? String ?? "cursor")=\(cursor.addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed) ?? cursor)")
                    }
                    if !query.isEmpty { url += (url.contains("?") ? "&" : "?") + query.joined(separator: "&") }
                    let body = try fetcher.get(url) ?? Data()
                    let json: Any
                    do { json = try JSONSerialization.jsonObject(with: body) } catch {
                        throw TransformError("\(name): \(display(url)) did not return JSON")
                    }
                    let pageRecords = try extractRecords(json, field: recordsField, url: display(url))
                    writer.write(pageRecords, request: display(url))
                    records += pageRecords.count
                    pages += 1
                    if kind == "page" {
                        if pageRecords.isEmpty { break }
                        if let field = pagination["total_pages_field"] as? String {
                            guard let total = (json as? [String: Any])?[field] as? Int else {
                                throw TransformError("\(name): \(display(url)) has no whole number '\(field)' (pagination.total_pages_field)")
                            }
                            if page >= total { break }
                        }
                        page += 1
                    } else if kind == "cursor" {
                        let field = pagination["field"] as? String ?? "next_cursor"
                        guard let object = json as? [String: Any], let next = object[field], !(next is NSNull) else { break }
                        let text = (next as? String) ?? (next as? NSNumber)?.stringValue ?? ""
                        if text.isEmpty { break }
                        cursor = text
                    } else {
                        break
                    }
                }
            }
            try output.synchronize()
            try output.close()
            manifest.merge(["url": display(base + path), "records": records, "pages": pages, "requests": fetcher.requests,
                            "retries": fetcher.retried, "ds": context.ds]) { $1 }
            try JSONFile.write(manifest, to: staging.path("_manifest.json"))
            try context.lake.publish(staging)
            context.results.output(partition.path, rows: records)
            context.log("extract.http: \(display(base + path)) → \(partition): \(records) records, \(pages) \(manifest["ids"] == nil ? "pages" : "ids"), \(fetcher.requests) requests (\(fetcher.retried) retried)")
        } catch {
            context.lake.discard(staging)
            throw error as? TransformError ?? TransformError("\(name): \(error)")
        }
    }

    static func bounded(_ options: TransformOptions, _ option: String, default fallback: Int, _ range: ClosedRange<Int>) throws(TransformError) -> Int {
        let value = try options.int(option) ?? fallback
        guard range.contains(value) else {
            throw TransformError("\(name): option '\(option)' is \(value); it must be between \(range.lowerBound) and \(range.upperBound)")
        }
        return value
    }

    /// The base URL without credentials, and the bearer token taken from its user part.
    static func endpoint(_ options: TransformOptions, _ context: TransformContext) throws(TransformError) -> (String, String?) {
        let fallback = try options.optionalString("url")
        if let connection = try options.optionalString("connection"), fallback == nil || context.connections.urls[connection.lowercased()] != nil {
            let url = try context.connections.url(connection)
            guard var components = URLComponents(string: url), components.scheme == "https" || components.scheme == "http" else {
                throw TransformError("\(name): connection '\(connection)' is not an http(s) URL")
            }
            let token = components.password ?? components.user
            components.user = nil
            components.password = nil
            return (components.string ?? url, token.flatMap { $0.isEmpty ? nil : $0 })
        }
        guard let url = fallback else { throw TransformError("\(name): give 'connection' or 'url'") }
        return (url, nil)
    }

    static func extractRecords(_ json: Any, field: String?, url: String) throws(TransformError) -> [Any] {
        if let field {
            guard let object = json as? [String: Any], let list = object[field] as? [Any] else {
                throw TransformError("\(name): \(url) has no list '\(field)' in its response")
            }
            return list
        }
        if let list = json as? [Any] { return list }
        if let object = json as? [String: Any] {
            for key in ["data", "items", "results", "records"] { if let list = object[key] as? [Any] { return list } }
        }
        throw TransformError("\(name): \(url) returned no list of records (set option 'records' to its field)")
    }

    /// URLs in messages: no user part, whatever the caller passed.
    static func display(_ url: String) -> String {
        guard var components = URLComponents(string: url) else { return url }
        components.user = nil
        components.password = nil
        return components.string ?? url
    }
}
