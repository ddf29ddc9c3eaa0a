import CCurlShim
import Dispatch
import Foundation
import MetadataStore
import SecretMasking

/// Asks the node that ran an attempt for a piece of its log (`GET /internal/v1/logs/…` with the node token), as
/// Airflow's webserver asks a worker's log server. Short timeouts, a bound on the answer, http(s) only, no
/// redirects and no proxy: a node that hangs or answers too much costs the page a few seconds, not the server.
struct NodeLogClient: Sendable {
    let token: String
    var connectTimeout: Double = 2
    var totalTimeout: Double = 10

    /// The largest window another node may send: the largest piece and both margins, in base64, with room for the
    /// JSON around it.
    static let maximumResponseBytes = (4_194_304 + 2 * TaskFiles.windowMargin + 2) / 3 * 4 + 4096
    static let route = "/internal/v1/logs"

    enum Outcome {
        case window(TaskFiles.Window)
        /// The node has no log file for the attempt (not started yet, or removed).
        case noLog
        case failed(NodeLogFailure)
    }

    private static let curlReady: Void = orchestrator_http_global_init()

    /// The route's path for an attempt: every id percent-encoded, so `:` and `+` of run ids and anything else
    /// reach the other node as one path segment each.
    static func path(_ key: TaskKey, tryNumber: Int) -> String {
        let plain = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~")
        let encoded = [key.dagId, key.runId, key.taskId].map { $0.addingPercentEncoding(withAllowedCharacters: plain) ?? "" }
        return "\(route)/\(encoded.joined(separator: "/"))/\(tryNumber)"
    }

    func fetch(node: String, address: NodeAddress, key: TaskKey, tryNumber: Int, offset: Int?, length: Int) async -> Outcome {
        let url = address.url(Self.path(key, tryNumber: tryNumber)) + "?length=\(length)" + (offset.map { "&offset=\($0)" } ?? "")
        let (token, connect, total) = (token, Int(connectTimeout * 1000), Int(totalTimeout * 1000))
        // libcurl blocks: on a thread of its own, not one of the few that serve every request.
        let reply = await withCheckedContinuation { (continuation: CheckedContinuation<Reply, Never>) in
            DispatchQueue.global().async {
                _ = Self.curlReady
                var response = orchestrator_http_get_node(url, token, connect, total, Self.maximumResponseBytes)
                defer { orchestrator_http_free(&response) }
                let body = response.body.map { Data(bytes: $0, count: response.body_length) } ?? Data()
                let error = withUnsafeBytes(of: response.error) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
                continuation.resume(returning: Reply(curlCode: response.curl_code, status: response.status, body: body, error: error))
            }
        }
        return Self.outcome(of: reply, node: node, offset: offset, length: length)
    }

    struct Reply: Sendable {
        var curlCode: Int32
        var status: Int
        var body: Data
        var error: String
    }

    /// What an answer means; its text never holds the token (only the status and the other node's own message).
    static func outcome(of reply: Reply, node: String, offset: Int?, length: Int) -> Outcome {
        let operationTimedOut: Int32 = 28  // CURLE_OPERATION_TIMEDOUT
        if reply.curlCode != 0 {
            return .failed(NodeLogFailure(node: node, reason: reply.error.isEmpty ? "the request failed" : reply.error,
                                          timedOut: reply.curlCode == operationTimedOut))
        }
        let object = (try? JSONSerialization.jsonObject(with: reply.body)) as? [String: Any]
        switch reply.status {
        case 200:
            guard let object, let encoded = object["window"] as? String, let bytes = Data(base64Encoded: encoded),
                  let windowStart = object["window_offset"] as? Int, let start = object["offset"] as? Int,
                  let end = object["end"] as? Int, let size = object["size"] as? Int else {
                return .failed(NodeLogFailure(node: node, reason: "its answer is not a log piece"))
            }
            let window = TaskFiles.Window(bytes: [UInt8](bytes), windowStart: windowStart, start: start, end: end, size: size)
            guard window.fits(offset: offset, length: length) else {
                return .failed(NodeLogFailure(node: node, reason: "its answer is not the piece asked for"))
            }
            return .window(window)
        case 404:
            return .noLog
        case 401:
            return .failed(NodeLogFailure(node: node, reason: "it refused this node's token (HTTP 401): give every node the same node_token"))
        case 403:
            return .failed(NodeLogFailure(node: node, reason: "it serves no logs to other nodes (HTTP 403): it has no node_token"))
        default:
            let message = ((object?["error"] as? [String: Any])?["message"] as? String).map { ": " + oneLine($0) } ?? ""
            return .failed(NodeLogFailure(node: node, reason: "HTTP \(reply.status)\(message)"))
        }
    }

    /// Another node's message, masked, on one line and short.
    static func oneLine(_ text: String) -> String {
        String(SecretMasker.masked(text).map { $0.isNewline ? " " : $0 }.prefix(200))
    }
}

/// The log of an attempt lies on another node, which could not give it: said in one line, answered 502 by the API
/// (504 when the node did not answer in time, 503 when it could not be asked).
struct NodeLogFailure: Error, Sendable, CustomStringConvertible {
    let node: String
    let reason: String
    var timedOut = false
    /// For the nodes that cannot be asked at all (no address, no token here): the whole line.
    var line: String?

    /// A node this one cannot ask at all; `line` says why, in full.
    static func cannotAsk(_ node: String, _ line: String) -> NodeLogFailure {
        NodeLogFailure(node: node, reason: "", line: line)
    }

    var description: String { line ?? "the log is on node \(node), which did not answer: \(reason)" }
}
