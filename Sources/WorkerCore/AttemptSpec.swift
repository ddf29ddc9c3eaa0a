import Foundation

/// Everything a worker needs for one attempt, rendered by the scheduler: the worker never parses DAG files.
public struct AttemptSpec: Codable, Sendable, Equatable {
    public var dagId: String
    public var runId: String
    public var taskId: String
    public var tryNumber: Int
    public var maxTries: Int
    /// The program and its arguments: `/bin/sh -c COMMAND`, or the orchestrator's transform runner.
    public var argv: [String]
    /// Added to the worker's own environment for the task.
    public var environment: [String: String]
    public var workingDirectory: String
    public var logPath: String
    public var storePath: String
    public var schedulerPidPath: String
    /// Seconds; nil for no limit.
    public var executionTimeout: Double?
    public var retryDelays: RetryTimes
    /// Also copy the task's output to the worker's stdout (for `orchestrator test`).
    public var tee: Bool

    public init(dagId: String, runId: String, taskId: String, tryNumber: Int, maxTries: Int, argv: [String],
                environment: [String: String], workingDirectory: String, logPath: String, storePath: String,
                schedulerPidPath: String, executionTimeout: Double?, retryDelays: RetryTimes, tee: Bool = false) {
        self.dagId = dagId
        self.runId = runId
        self.taskId = taskId
        self.tryNumber = tryNumber
        self.maxTries = maxTries
        self.argv = argv
        self.environment = environment
        self.workingDirectory = workingDirectory
        self.logPath = logPath
        self.storePath = storePath
        self.schedulerPidPath = schedulerPidPath
        self.executionTimeout = executionTimeout
        self.retryDelays = retryDelays
        self.tee = tee
    }
}

/// The retry delay after this attempt fails, computed by the scheduler from the task's policy.
public struct RetryTimes: Codable, Sendable, Equatable {
    public var delayAfterThisTry: Double
    public init(delayAfterThisTry: Double) { self.delayAfterThisTry = delayAfterThisTry }
}
