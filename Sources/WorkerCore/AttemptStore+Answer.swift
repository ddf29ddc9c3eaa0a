/// The store side of the attempt channel: one request in, the `AttemptStore` call it names, one reply out.
extension AttemptStore {
    /// Runs `request`. A `resent` write first looks whether its first send landed, and looks again when the write
    /// itself is refused: the first send may still have been running on the server when its sender died, and a
    /// compare-and-set waits for it, then finds the row moved on (by that very write).
    public func answer(_ request: AttemptRequest, resent: Bool = false) -> AttemptReply {
        do {
            if resent, let earlier = try landed(request) { return earlier }
            let reply = try perform(request)
            if resent, reply == .started(nil) || reply == .written(false), let earlier = try landed(request) { return earlier }
            return reply
        } catch {
            return .failed(kind: error.kind, description: error.description)
        }
    }

    func perform(_ request: AttemptRequest) throws(AttemptStoreError) -> AttemptReply {
        switch request {
        case .claim(let key, let pid, let hostname, let time):
            return .started(try claim(key, pid: pid, hostname: hostname, at: time))
        case .reschedule(let key, let nextPokeAt, let note, let time):
            return .written(try reschedule(key, nextPokeAt: nextPokeAt, note: note, at: time))
        case .setTaskPid(let key, let taskPid):
            try setTaskPid(key, taskPid: taskPid)
            return .done
        case .heartbeat(let key, let time):
            return .heartbeat(try heartbeat(key, at: time))
        case .complete(let key, let hostname, let pid, let outcome):
            return .written(try complete(key, hostname: hostname, pid: pid, outcome: outcome))
        }
    }
}
