import CCurlShim
import Foundation

/// `extract.http`: pages through a JSON API with libcurl and writes the raw records to bronze as JSON lines.
/// Options:
/// - `connection`: a connection whose URL is the API's base (`https://TOKEN@api.example.com/v1`: the user part
///   is sent as a bearer token, never logged), or `url` for an API without credentials;
/// - `path`: appended to the base (templated by the DAG: `/events?since={{ data_interval_start }}`);
/// - `source`, `table`: bronze location; `records`: the field holding the page's records (default: the body
///   itself when it is an array, else `data`, `items` or `results`);
/// - `pagination`: `{ type: page, param: page, size_param: per_page, size: 100 }`, `{ type: cursor, param: cursor,
///   field: next_cursor }`, or none (one request);
/// - `max_pages` (default 10000), `requests_per_second` (default 10), `retries` (default 5; a 429 or 5xx is
///   retried after its Retry-After, else with backoff from 1 s doubling), `timeout` seconds per request (30).
public enum ExtractHTTP: TransformOperation {
    public static let name = "extract.http"

    public static func run(_ options: TransformOptions, _ context: TransformContext) throws(TransformError) {
        try options.allowOnly(["connection", "url", "path", "source", "table", "records", "pagination", "max_pages",
                               "requests_per_second", "retries", "timeout"])
        let source = try options.string("source"), table = try options.string("table")
        try Naming.check(source, what: "source", operation: name)
        try Naming.check(table, what: "table", operation: name)
        let (base, token) = try endpoint(options, context)
        let path = try options.optionalString("path") ?? ""
        let recordsField = try options.optionalString("records")
        let pagination = try options.object("pagination") ?? [:]
        let kind = pagination["type"] as? String ?? "none"
        guard ["none", "page", "cursor"].contains(kind) else {
            throw TransformError("\(name): pagination type '\(kind)' is not one of page, cursor")
        }
        let maxPages = try options.int("max_pages") ?? 10_000
        let interval = 1.0 / Double(max(1, try options.int("requests_per_second") ?? 10))
        let retries = try options.int("retries") ?? 5
        let timeout = try options.int("timeout") ?? 30
        orchestrator_http_global_init()

        let partition = try LakePartition(table: "bronze/\(source)/\(table)", ds: context.ds)
        let staging = try context.lake.stage(partition)
        do {
            guard let output = FileHandle(forWritingAtPath: staging.path("records.jsonl"))
                ?? (FileManager.default.createFile(atPath: staging.path("records.jsonl"), contents: nil)
                    ? FileHandle(forWritingAtPath: staging.path("records.jsonl")) : nil) else {
                throw TransformError("cannot create \(staging.path("records.jsonl"))")
            }
            var records = 0, pages = 0, requests = 0, retried = 0
            var page = (pagination["start"] as? Int) ?? 1
            var cursor: String?
            var lastRequest = Date.distantPast
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

                var attempt = 0
                var body = Data()
                while true {
                    // Rate limit: space requests out (this process is the task; the scheduler is not waiting on it).
                    let wait = interval - Date().timeIntervalSince(lastRequest)
                    if wait > 0 { Thread.sleep(forTimeInterval: wait) }
                    lastRequest = Date()
                    requests += 1
                    var response = orchestrator_http_get(url, token, timeout * 1000, 256 << 20)
                    defer { orchestrator_http_free(&response) }
                    let status = response.status
                    let retryable = response.curl_code != 0 || status == 429 || status >= 500
                    if response.curl_code == 0 && (200..<300).contains(status) {
                        body = response.body.map { Data(bytes: $0, count: response.body_length) } ?? Data()
                        break
                    }
                    let reason = response.curl_code != 0
                        ? withUnsafeBytes(of: response.error) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
                        : "HTTP \(status)"
                    guard retryable, attempt < retries else {
                        throw TransformError("\(name): GET \(display(url)) failed: \(reason)" + (attempt > 0 ? " after \(attempt + 1) attempts" : ""))
                    }
                    attempt += 1
                    retried += 1
                    let delay = response.retry_after >= 0 ? Double(response.retry_after) : pow(2, Double(attempt - 1))
                    context.log("extract.http: GET \(display(url)): \(reason); retry \(attempt) of \(retries) in \(delay)s")
                    Thread.sleep(forTimeInterval: min(delay, 300))
                }
                let json: Any
                do { json = try JSONSerialization.jsonObject(with: body) } catch {
                    throw TransformError("\(name): \(display(url)) did not return JSON")
                }
                let pageRecords = try extractRecords(json, field: recordsField, url: display(url))
                for record in pageRecords {
                    guard JSONSerialization.isValidJSONObject(record) || record is NSNumber || record is String else { continue }
                    let line = (try? JSONSerialization.data(withJSONObject: record, options: [.sortedKeys, .fragmentsAllowed])) ?? Data()
                    output.write(line)
                    output.write(Data([0x0A]))
                }
                records += pageRecords.count
                pages += 1
                if kind == "page" {
                    if pageRecords.isEmpty { break }
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
            try output.synchronize()
            try output.close()
            try JSONFile.write(["url": display(base + path), "records": records, "pages": pages, "requests": requests,
                                "retries": retried, "ds": context.ds], to: staging.path("_manifest.json"))
            try context.lake.publish(staging)
            context.results.output(partition.path, rows: records)
            context.log("extract.http: \(display(base + path)) → \(partition): \(records) records, \(pages) pages, \(requests) requests (\(retried) retried)")
        } catch {
            context.lake.discard(staging)
            throw error as? TransformError ?? TransformError("\(name): \(error)")
        }
    }

    /// The base URL without credentials, and the bearer token taken from its user part.
    static func endpoint(_ options: TransformOptions, _ context: TransformContext) throws(TransformError) -> (String, String?) {
        if let connection = try options.optionalString("connection") {
            let url = try context.connections.url(connection)
            guard var components = URLComponents(string: url), components.scheme == "https" || components.scheme == "http" else {
                throw TransformError("\(name): connection '\(connection)' is not an http(s) URL")
            }
            let token = components.password ?? components.user
            components.user = nil
            components.password = nil
            return (components.string ?? url, token)
        }
        guard let url = try options.optionalString("url") else { throw TransformError("\(name): give 'connection' or 'url'") }
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
