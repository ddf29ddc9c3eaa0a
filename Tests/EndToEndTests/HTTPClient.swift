import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import XCTest

/// Plain HTTP requests to a test daemon: redirects are returned, not followed, and cookies are only what the
/// test sends, so login, session and CSRF behaviour can be checked step by step.
final class HTTPClient: NSObject, URLSessionTaskDelegate, @unchecked Sendable {
    struct Reply {
        let status: Int
        let headers: [String: String]
        let body: String
        var json: Any? { try? JSONSerialization.jsonObject(with: Data(body.utf8)) }
    }

    private lazy var session = URLSession(configuration: {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.httpShouldSetCookies = false
        configuration.httpCookieAcceptPolicy = .never
        return configuration
    }(), delegate: self, delegateQueue: nil)

    func urlSession(_ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
                    newRequest request: URLRequest, completionHandler: @escaping (URLRequest?) -> Void) {
        completionHandler(nil)
    }

    func send(_ method: String, _ url: String, headers: [String: String] = [:], body: String? = nil) throws -> Reply {
        var request = URLRequest(url: try XCTUnwrap(URL(string: url), url))
        request.httpMethod = method
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        if let body { request.httpBody = Data(body.utf8) }
        let semaphore = DispatchSemaphore(value: 0)
        let box = ReplyBox()
        session.dataTask(with: request) { data, response, _ in
            let http = response as? HTTPURLResponse
            var headers: [String: String] = [:]
            for (name, value) in http?.allHeaderFields ?? [:] { headers["\(name)".lowercased()] = "\(value)" }
            box.set(Reply(status: http?.statusCode ?? 0, headers: headers, body: String(decoding: data ?? Data(), as: UTF8.self)))
            semaphore.signal()
        }.resume()
        XCTAssertEqual(semaphore.wait(timeout: .now() + 15), .success, "\(method) \(url) timed out")
        return box.get()
    }

    func get(_ url: String, headers: [String: String] = [:]) throws -> Reply { try send("GET", url, headers: headers) }

    /// A form post, `application/x-www-form-urlencoded`.
    func post(_ url: String, form: [String: String], cookie: String? = nil) throws -> Reply {
        let body = form.map { "\($0.key)=\($0.value.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")" }.joined(separator: "&")
        var headers = ["Content-Type": "application/x-www-form-urlencoded"]
        if let cookie { headers["Cookie"] = cookie }
        return try send("POST", url, headers: headers, body: body)
    }

    static func encoded(_ text: String) -> String { text.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? text }
}

private final class ReplyBox: @unchecked Sendable {
    private let lock = NSLock()
    private var reply = HTTPClient.Reply(status: 0, headers: [:], body: "")
    func set(_ value: HTTPClient.Reply) { lock.withLock { reply = value } }
    func get() -> HTTPClient.Reply { lock.withLock { reply } }
}
