/// Where things live under the orchestrator's home folder.
public struct HomeLayout: Sendable, Equatable {
    public let home: String

    /// `home` should be absolute; a trailing slash is dropped.
    public init(home: String) {
        var path = home
        while path.count > 1 && path.hasSuffix("/") { path.removeLast() }
        self.home = path
    }

    public var storePath: String { "\(home)/orchestrator.db" }
    public var logsFolder: String { "\(home)/logs" }
    /// Held (flock) by the one scheduler working on this home: the daemon, or a backfill running without one.
    public var schedulerLockPath: String { "\(home)/scheduler.lock" }
    /// The pid of that scheduler, so that the CLI and workers can wake it with SIGUSR1.
    public var schedulerPidPath: String { "\(home)/scheduler.pid" }

    /// `logs/<dag>/<run>/<task>/attempt-<n>.log`
    public func logPath(dagId: String, runId: String, taskId: String, tryNumber: Int) -> String {
        attemptPath(dagId: dagId, runId: runId, taskId: taskId, tryNumber: tryNumber) + ".log"
    }

    /// `logs/<dag>/<run>/<task>/attempt-<n>.result.json`: what a transform attempt wrote (rows, quality reports).
    public func resultPath(dagId: String, runId: String, taskId: String, tryNumber: Int) -> String {
        attemptPath(dagId: dagId, runId: runId, taskId: taskId, tryNumber: tryNumber) + ".result.json"
    }

    func attemptPath(dagId: String, runId: String, taskId: String, tryNumber: Int) -> String {
        "\(logsFolder)/\(dagId)/\(Self.safeComponent(runId))/\(taskId)/attempt-\(tryNumber)"
    }

    /// Keeps a run id usable as one folder name.
    static func safeComponent(_ text: String) -> String {
        String(text.map { $0 == "/" || $0 == "\0" ? "_" : $0 })
    }
}
