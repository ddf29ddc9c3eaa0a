/// A worker's store write, sent over its attempt channel to whoever answers for the store: its daemon, or the
/// fallback helper it starts when the daemon is gone (docs/decisions/0016-workers-talk-to-their-daemon.md).
public enum AttemptRequest: Sendable, Equatable {
    case claim(AttemptKey, pid: Int32, hostname: String, at: Double)
    case reschedule(AttemptKey, nextPokeAt: Double, note: String, at: Double)
    case setTaskPid(AttemptKey, taskPid: Int32)
    case heartbeat(AttemptKey, at: Double)
    case complete(AttemptKey, hostname: String, pid: Int32, outcome: AttemptOutcome)

    public var key: AttemptKey {
        switch self {
        case .claim(let key, _, _, _), .reschedule(let key, _, _, _), .setTaskPid(let key, _), .heartbeat(let key, _),
             .complete(let key, _, _, _):
            return key
        }
    }
}

/// The answer to one `AttemptRequest`: what the `AttemptStore` method returned, or the error it threw.
public enum AttemptReply: Sendable, Equatable {
    /// claim: when this try first started, nil if the attempt was not ours.
    case started(Double?)
    /// reschedule and complete.
    case written(Bool)
    case heartbeat(HeartbeatResult)
    /// setTaskPid.
    case done
    case failed(kind: AttemptStoreError.Kind, description: String)
}

/// One message on the channel: a request or a reply, numbered so that a late reply is never taken for the answer
/// to a later request. `resent` marks a request sent again to the fallback after the daemon went away unanswering.
///
/// Wire form (one SOCK_SEQPACKET datagram): fields, each a presence byte (0: nil), a 4-byte big-endian length and
/// UTF-8 bytes. Text, so doubles travel as Swift's shortest round-trip form and read back bit for bit.
public struct AttemptMessage: Sendable, Equatable {
    public enum Body: Sendable, Equatable {
        case request(AttemptRequest, resent: Bool)
        case reply(AttemptReply)
    }

    public var id: UInt32
    public var body: Body

    public init(id: UInt32, _ body: Body) {
        self.id = id
        self.body = body
    }

    /// A datagram never needs more; notes are cut to fit (`AttemptMessage.noteLimit`).
    public static let sizeLimit = 65_536
    /// Longest note a request carries; longer ones are cut (the full text is in the attempt's log).
    public static let noteLimit = 16_384

    public struct DecodingError: Error, Sendable, CustomStringConvertible {
        public let description: String
    }

    // MARK: Encoding

    public var encoded: [UInt8] {
        var out: [UInt8] = []
        for field in fields {
            guard let field else { out.append(0); continue }
            let bytes = Array(field.utf8)
            out.append(1)
            withUnsafeBytes(of: UInt32(bytes.count).bigEndian) { out.append(contentsOf: $0) }
            out.append(contentsOf: bytes)
        }
        return out
    }

    var fields: [String?] {
        switch body {
        case .request(let request, let resent):
            let head = [String(id), resent ? "resent" : "first"]
            func keyed(_ kind: String, _ key: AttemptKey, _ rest: [String?]) -> [String?] {
                head + [kind, key.dagId, key.runId, key.taskId, String(key.tryNumber)] + rest
            }
            switch request {
            case .claim(let key, let pid, let hostname, let time):
                return keyed("claim", key, [String(pid), hostname, String(time)])
            case .reschedule(let key, let nextPokeAt, let note, let time):
                return keyed("reschedule", key, [String(nextPokeAt), Self.cut(note), String(time)])
            case .setTaskPid(let key, let taskPid):
                return keyed("task-pid", key, [String(taskPid)])
            case .heartbeat(let key, let time):
                return keyed("heartbeat", key, [String(time)])
            case .complete(let key, let hostname, let pid, let outcome):
                return keyed("complete", key, [hostname, String(pid), outcome.state, String(outcome.startedAt), String(outcome.endedAt),
                                               outcome.exitCode.map { String($0) }, outcome.signal.map { String($0) },
                                               outcome.nextRetryAt.map { String($0) }, outcome.note.map(Self.cut)])
            }
        case .reply(let reply):
            let head = [String(id), "reply"]
            switch reply {
            case .started(let time): return head + ["started", time.map { String($0) }]
            case .written(let written): return head + ["written", written ? "1" : "0"]
            case .heartbeat(.ours): return head + ["ours"]
            case .heartbeat(.takenAway(let state, let tryNumber)): return head + ["taken-away", state, tryNumber.map { String($0) }]
            case .done: return head + ["done"]
            case .failed(let kind, let description): return head + ["failed", kind.rawValue, Self.cut(description)]
            }
        }
    }

    /// At most `noteLimit` bytes, cut at a character boundary.
    static func cut(_ text: String) -> String {
        guard text.utf8.count > noteLimit else { return text }
        var kept = ""
        for character in text {
            if kept.utf8.count + character.utf8.count > noteLimit - 3 { break }
            kept.append(character)
        }
        return kept + "…"
    }

    // MARK: Decoding

    public init(decoding bytes: [UInt8]) throws(DecodingError) {
        guard bytes.count <= Self.sizeLimit else { throw DecodingError(description: "attempt message of \(bytes.count) bytes is over the limit") }
        var fields: [String?] = []
        var offset = 0
        while offset < bytes.count {
            let present = bytes[offset]
            offset += 1
            guard present == 1 else {
                guard present == 0 else { throw DecodingError(description: "attempt message: bad field marker \(present)") }
                fields.append(nil)
                continue
            }
            guard offset + 4 <= bytes.count else { throw DecodingError(description: "attempt message ends inside a field length") }
            let length = bytes[offset..<offset + 4].reduce(0) { $0 << 8 | Int($1) }
            offset += 4
            guard length <= bytes.count - offset else { throw DecodingError(description: "attempt message ends inside a field") }
            fields.append(String(decoding: bytes[offset..<offset + length], as: UTF8.self))
            offset += length
        }
        try self.init(fields: fields)
    }

    init(fields: [String?]) throws(DecodingError) {
        var cursor = fields.makeIterator()
        func optional(_ name: String) throws(DecodingError) -> String? {
            guard let field = cursor.next() else { throw DecodingError(description: "attempt message ends before \(name)") }
            return field
        }
        func text(_ name: String) throws(DecodingError) -> String {
            guard let value = try optional(name) else { throw DecodingError(description: "attempt message: \(name) is missing") }
            return value
        }
        func number<T: LosslessStringConvertible>(_ name: String, _ type: T.Type) throws(DecodingError) -> T {
            let value = try text(name)
            guard let number = T(value) else { throw DecodingError(description: "attempt message: \(name) '\(value.prefix(40))' is not a number") }
            return number
        }
        func optionalNumber<T: LosslessStringConvertible>(_ name: String, _ type: T.Type) throws(DecodingError) -> T? {
            guard let value = try optional(name) else { return nil }
            guard let number = T(value) else { throw DecodingError(description: "attempt message: \(name) '\(value.prefix(40))' is not a number") }
            return number
        }
        id = try number("id", UInt32.self)
        let direction = try text("direction")
        let kind = try text("kind")
        if direction == "reply" {
            switch kind {
            case "started": body = .reply(.started(try optionalNumber("start", Double.self)))
            case "written": body = .reply(.written(try text("written") == "1"))
            case "ours": body = .reply(.heartbeat(.ours))
            case "taken-away":
                body = .reply(.heartbeat(.takenAway(state: try optional("state"), tryNumber: try optionalNumber("try", Int.self))))
            case "done": body = .reply(.done)
            case "failed":
                let kindName = try text("error kind")
                guard let errorKind = AttemptStoreError.Kind(rawValue: kindName) else {
                    throw DecodingError(description: "attempt message: unknown error kind '\(kindName.prefix(40))'")
                }
                body = .reply(.failed(kind: errorKind, description: try text("error")))
            default: throw DecodingError(description: "attempt message: unknown reply '\(kind.prefix(40))'")
            }
        } else {
            guard direction == "first" || direction == "resent" else {
                throw DecodingError(description: "attempt message: unknown direction '\(direction.prefix(40))'")
            }
            let key = AttemptKey(dagId: try text("dag_id"), runId: try text("run_id"), taskId: try text("task_id"),
                                 tryNumber: try number("try_number", Int.self))
            let request: AttemptRequest
            switch kind {
            case "claim":
                request = .claim(key, pid: try number("pid", Int32.self), hostname: try text("hostname"), at: try number("time", Double.self))
            case "reschedule":
                request = .reschedule(key, nextPokeAt: try number("next poke", Double.self), note: try text("note"),
                                      at: try number("time", Double.self))
            case "task-pid": request = .setTaskPid(key, taskPid: try number("task pid", Int32.self))
            case "heartbeat": request = .heartbeat(key, at: try number("time", Double.self))
            case "complete":
                let hostname = try text("hostname"), pid = try number("pid", Int32.self)
                let outcome = AttemptOutcome(
                    state: try text("state"), startedAt: try number("start", Double.self), endedAt: try number("end", Double.self),
                    exitCode: try optionalNumber("exit code", Int32.self), signal: try optionalNumber("signal", Int32.self),
                    nextRetryAt: try optionalNumber("next retry", Double.self), note: try optional("note"))
                request = .complete(key, hostname: hostname, pid: pid, outcome: outcome)
            default: throw DecodingError(description: "attempt message: unknown request '\(kind.prefix(40))'")
            }
            body = .request(request, resent: direction == "resent")
        }
        guard cursor.next() == nil else { throw DecodingError(description: "attempt message has fields after its end") }
    }
}
