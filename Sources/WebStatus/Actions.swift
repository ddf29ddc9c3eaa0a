import Foundation
import HTTPTypes
import Hummingbird
import MetadataStore

/// What the pages and the API may change, carried out by the daemon (which owns the writable store and wakes
/// its scheduler). The web module decides who may act; the daemon decides what the action means.
public protocol StatusActions: Sendable {
    /// Creates a manual run (logical date now without one); returns it.
    func trigger(dagId: String, logicalDate: String?, params: [String: String]) throws(ActionError) -> DagRun
    /// Clears tasks of a run (all of them when `taskIds` is empty) so they run again; returns how many.
    func clear(dagId: String, runId: String, taskIds: [String], downstream: Bool) throws(ActionError) -> Int
    func setPaused(dagId: String, paused: Bool) throws(ActionError)
}

/// An action refused: bad input (400), an unknown DAG or run (404), a conflict such as an existing run (409),
/// or a failure of the daemon itself (500).
public struct ActionError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable { case badRequest, notFound, conflict, failed }
    public let kind: Kind
    public let description: String

    public init(_ kind: Kind, _ description: String) {
        self.kind = kind
        self.description = description
    }

    var httpError: HTTPError {
        switch kind {
        case .badRequest: HTTPError(.badRequest, message: description)
        case .notFound: HTTPError(.notFound, message: description)
        case .conflict: HTTPError(.conflict, message: description)
        case .failed: HTTPError(.internalServerError, message: description)
        }
    }
}

/// Who may act. The API takes `Authorization: Bearer <token>`. Browsers log in once with the token and get a
/// session cookie (HttpOnly, SameSite=Strict); every form then carries the session's CSRF token, which a page
/// of another site cannot read. With no token configured, every action is refused.
final class WebAuth: @unchecked Sendable {
    struct Session {
        var csrf: String
        var expires: Date
    }

    static let cookieName = "orchestrator_session"
    static let sessionLifetime: TimeInterval = 12 * 3600
    let token: String?
    private let lock = NSLock()
    private var sessions: [String: Session] = [:]

    init(token: String?) {
        self.token = token.flatMap { $0.isEmpty ? nil : $0 }
    }

    var actionsEnabled: Bool { token != nil }

    /// 403 when actions are off, 401 without the right bearer token.
    func requireBearer(_ request: Request) throws {
        guard let token else { throw Self.actionsOff }
        let header = request.headers[.authorization] ?? ""
        guard header.hasPrefix("Bearer "), Self.constantTimeEqual(String(header.dropFirst("Bearer ".count)), token) else {
            throw HTTPError(.unauthorized, headers: [.wwwAuthenticate: "Bearer"], message: "a valid bearer token is required (Authorization: Bearer …)")
        }
    }

    /// For form posts: a live session and the CSRF token it was given. Answers 401 otherwise.
    func requireForm(_ request: Request, _ form: [String: String]) throws {
        guard actionsEnabled else { throw Self.actionsOff }
        guard let session = session(request) else {
            throw HTTPError(.unauthorized, message: "log in with the web token first (/login)")
        }
        guard let sent = form["csrf"], Self.constantTimeEqual(sent, session.csrf) else {
            throw HTTPError(.unauthorized, message: "the form's CSRF token is missing or stale: reload the page")
        }
    }

    static var actionsOff: HTTPError {
        HTTPError(.forbidden, message: "web actions are off: no web token is configured (web_token / ORCHESTRATOR_WEB_TOKEN)")
    }

    /// A new session for the right token: its cookie value and CSRF token.
    func login(token candidate: String) -> (id: String, csrf: String)? {
        guard let token, Self.constantTimeEqual(candidate, token) else { return nil }
        let id = Self.randomToken(), csrf = Self.randomToken()
        let now = Date()
        lock.withLock {
            sessions = sessions.filter { $0.value.expires > now }
            sessions[id] = Session(csrf: csrf, expires: now.addingTimeInterval(Self.sessionLifetime))
        }
        return (id, csrf)
    }

    func logout(_ request: Request) {
        guard let id = Self.cookie(request, Self.cookieName) else { return }
        lock.withLock { _ = sessions.removeValue(forKey: id) }
    }

    func session(_ request: Request) -> Session? {
        guard actionsEnabled, let id = Self.cookie(request, Self.cookieName) else { return nil }
        return lock.withLock {
            guard let session = sessions[id], session.expires > Date() else { return nil }
            return session
        }
    }

    static func cookie(_ request: Request, _ name: String) -> String? {
        for header in request.headers[values: .cookie] {
            for pair in header.split(separator: ";") {
                let parts = pair.split(separator: "=", maxSplits: 1)
                if parts.count == 2, parts[0].trimmingCharacters(in: .whitespaces) == name {
                    return parts[1].trimmingCharacters(in: .whitespaces)
                }
            }
        }
        return nil
    }

    static func randomToken() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
    }

    /// Compares without returning early, so timing does not tell how much of a guess was right.
    static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard x.count == y.count else { return false }
        var difference: UInt8 = 0
        for index in x.indices { difference |= x[index] ^ y[index] }
        return difference == 0
    }
}

/// `application/x-www-form-urlencoded` bodies and query strings.
enum FormBody {
    static let maxBytes = 65_536

    static func read(_ request: Request) async throws -> [String: String] {
        let buffer = try await request.body.collect(upTo: maxBytes)
        return parse(String(buffer: buffer))
    }

    static func parse(_ text: String) -> [String: String] {
        var fields: [String: String] = [:]
        for pair in text.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = decode(parts[0]), value = parts.count > 1 ? decode(parts[1]) : ""
            if let name, let value { fields[name] = value }
        }
        return fields
    }

    static func decode(_ text: Substring) -> String? {
        text.replacingOccurrences(of: "+", with: " ").removingPercentEncoding
    }
}
