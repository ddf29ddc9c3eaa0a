import Foundation
import HTTPTypes
import Hummingbird
import MetadataStore

/// Logs of attempts that ran on other nodes (docs/decisions/0014-node-logs.md): each node serves its own logs to
/// the others on an internal route with the node token, and a page or API request for an attempt whose log is not
/// here asks the node named on the attempt.
extension StatusServer {
    /// What a page or the API shows for an attempt's log.
    enum AttemptLog {
        case piece(TaskFiles.Chunk)
        case none
        case unavailable(NodeLogFailure)
    }

    /// The piece from this node's file when it has one; otherwise, for an attempt another node ran, from that node.
    func attemptLog(_ key: TaskKey, tryNumber: Int, offset: Int?, length: Int) async throws -> AttemptLog {
        if let chunk = try files.log(key, tryNumber: tryNumber, offset: offset, length: length) { return .piece(chunk) }
        guard let node = try store.attempts(key).first(where: { $0.tryNumber == tryNumber })?.hostname,
              !node.isEmpty, node != setup.nodeName else { return .none }
        guard let record = try store.nodes().first(where: { $0.name == node }) else {
            // A backfill running on its own is no node: its logs stay on its machine.
            return .unavailable(.cannotAsk(node, "the log is on \(node), which is not a node of this store (a backfill run without a daemon keeps its logs there)"))
        }
        guard let text = record.address, let address = try? NodeAddress(parsing: text) else {
            return .unavailable(.cannotAsk(node, "the log is on node \(node), which has no address in the store (its web server is off)"))
        }
        guard let client = nodeLogs else {
            return .unavailable(.cannotAsk(node, "the log is on node \(node); this node has no node_token to ask it with"))
        }
        switch await client.fetch(node: node, address: address, key: key, tryNumber: tryNumber, offset: offset, length: length) {
        case .window(let window): return .piece(TaskFiles.piece(of: files.masked(window)))
        case .noLog: return .none
        case .failed(let failure): return .unavailable(failure)
        }
    }

    /// `GET /internal/v1/logs/{dag}/{run}/{task}/{try}`: a masked window of one of this node's logs, for another node.
    /// The token is checked before anything of the path is read; the ids are plain names and the file must lie in
    /// the logs folder, as on the public routes.
    func nodeLogRoutes(_ router: Router<BasicRequestContext>) {
        router.get("\(NodeLogClient.route)/:dag/:run/:task/:try") { [self] request, context in
            try nodeAuth.require(request)
            let key = TaskKey(dagId: try decoded(context, "dag"), runId: try decoded(context, "run"), taskId: try decoded(context, "task"))
            let tryText = try decoded(context, "try")
            guard let tryNumber = Int(tryText), tryNumber >= 1 else {
                throw HTTPError(.badRequest, message: "attempt '\(tryText)' must be a whole number from 1")
            }
            let length = try intParameter(request, "length", default: 65_536, range: 1...4_194_304)
            let offset = try request.uri.queryParameters.get("offset").map { _ in try intParameter(request, "offset", default: 0, range: 0...Int(Int32.max)) }
            guard let window = try files.window(key, tryNumber: tryNumber, offset: offset, length: length) else {
                throw HTTPError(.notFound, message: "no log for attempt \(tryNumber) of \(key) on this node")
            }
            let masked = files.masked(window)
            return try json(["window": Data(masked.bytes).base64EncodedString(), "window_offset": masked.windowStart,
                             "offset": masked.start, "end": masked.end, "size": masked.size])
        }
    }
}

/// Who may read this node's logs from elsewhere: the other nodes, with `node_token` (`ORCHESTRATOR_NODE_TOKEN`).
/// Without one configured the route is off (403); a missing or wrong bearer token is a 401. Compared in constant time.
struct NodeTokenCheck: Sendable {
    let token: String?

    init(token: String?) {
        self.token = token.flatMap { $0.isEmpty ? nil : $0 }
    }

    func require(_ request: Request) throws {
        guard let token else {
            throw HTTPError(.forbidden, message: "this node serves no logs to other nodes: no node token is configured (node_token / ORCHESTRATOR_NODE_TOKEN)")
        }
        let header = request.headers[.authorization] ?? ""
        guard header.hasPrefix("Bearer "), WebAuth.constantTimeEqual(String(header.dropFirst("Bearer ".count)), token) else {
            throw HTTPError(.unauthorized, headers: [.wwwAuthenticate: "Bearer"], message: "the node token is required (Authorization: Bearer …)")
        }
    }
}

extension NodeLogFailure {
    /// The failure is another server's, or this one's setup, never the client's: 503 when the other node cannot be
    /// asked at all (no address, no token here), 504 when it did not answer in time, else 502.
    var httpError: HTTPError {
        HTTPError(line != nil ? .serviceUnavailable : timedOut ? .gatewayTimeout : .badGateway, message: description)
    }
}
