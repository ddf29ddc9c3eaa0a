/// Everything a worker needs for one attempt, rendered by the scheduler: the worker never parses DAG files.
/// It travels as the worker's argv (`arguments` / `init(arguments:)`), so the worker needs no JSON decoder.
public struct AttemptSpec: Sendable, Equatable {
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
    /// The metadata store's URL (`sqlite:///…`, or a bare path for SQLite). The spec travels as argv, which any local
    /// user can read in /proc: a URL given here must carry no password (libpq takes one from PGPASSWORD instead).
    public var storeURL: String
    public var schedulerPidPath: String
    /// Seconds; nil for no limit.
    public var executionTimeout: Double?
    /// Seconds to wait before the next attempt if this one fails (computed from the task's retry policy).
    public var retryDelay: Double
    /// Also copy the task's output to the worker's stdout (for `orchestrator test`).
    public var tee: Bool
    /// For a sensor: seconds between pokes and until it gives up (measured from its first poke).
    public var sensor: SensorTiming?
    /// The descriptor of the attempt channel the scheduler passed (`AttemptChannel.childDescriptor`): the worker sends its
    /// writes there instead of opening the store. Nil: the worker opens the store itself.
    public var channel: Int32?

    public struct SensorTiming: Sendable, Equatable {
        public var pokeInterval: Double
        public var timeout: Double
        public init(pokeInterval: Double, timeout: Double) {
            self.pokeInterval = pokeInterval
            self.timeout = timeout
        }
    }

    /// A sensor's poke exits with this code when its condition does not hold yet (EX_TEMPFAIL).
    public static let notYetExitCode: Int32 = 75

    public init(dagId: String, runId: String, taskId: String, tryNumber: Int, maxTries: Int, argv: [String],
                environment: [String: String], workingDirectory: String, logPath: String, storeURL: String,
                schedulerPidPath: String, executionTimeout: Double?, retryDelay: Double, tee: Bool = false, sensor: SensorTiming? = nil,
                channel: Int32? = nil) {
        self.dagId = dagId
        self.runId = runId
        self.taskId = taskId
        self.tryNumber = tryNumber
        self.maxTries = maxTries
        self.argv = argv
        self.environment = environment
        self.workingDirectory = workingDirectory
        self.logPath = logPath
        self.storeURL = storeURL
        self.schedulerPidPath = schedulerPidPath
        self.executionTimeout = executionTimeout
        self.retryDelay = retryDelay
        self.tee = tee
        self.sensor = sensor
        self.channel = channel
    }

    static let formatTag = "attempt-spec-v4"

    /// The worker's argv after its program name: fixed fields, then counted environment entries and argv.
    public var arguments: [String] {
        var out = [Self.formatTag, dagId, runId, taskId, String(tryNumber), String(maxTries), workingDirectory, logPath,
                   storeURL, schedulerPidPath, executionTimeout.map { String($0) } ?? "-", String(retryDelay), tee ? "1" : "0",
                   sensor.map { String($0.pokeInterval) } ?? "-", sensor.map { String($0.timeout) } ?? "-",
                   channel.map { String($0) } ?? "-"]
        out.append(String(environment.count))
        for (name, value) in environment.sorted(by: { $0.key < $1.key }) { out += [name, value] }
        out.append(String(argv.count))
        out += argv
        return out
    }

    public struct DecodingError: Error, CustomStringConvertible {
        public let description: String
    }

    public init(arguments: [String]) throws(DecodingError) {
        var cursor = arguments.makeIterator()
        func next(_ field: String) throws(DecodingError) -> String {
            guard let value = cursor.next() else { throw DecodingError(description: "attempt spec ends before \(field)") }
            return value
        }
        func number(_ field: String) throws(DecodingError) -> Int {
            let text = try next(field)
            guard let value = Int(text), value >= 0 else { throw DecodingError(description: "attempt spec: \(field) '\(text)' is not a count") }
            return value
        }
        guard try next("format") == Self.formatTag else { throw DecodingError(description: "not an \(Self.formatTag) argument list") }
        dagId = try next("dag_id")
        runId = try next("run_id")
        taskId = try next("task_id")
        tryNumber = try number("try_number")
        maxTries = try number("max_tries")
        workingDirectory = try next("cwd")
        logPath = try next("log path")
        storeURL = try next("store URL")
        schedulerPidPath = try next("scheduler pid path")
        let timeout = try next("execution_timeout")
        executionTimeout = timeout == "-" ? nil : Double(timeout)
        guard let delay = Double(try next("retry delay")) else { throw DecodingError(description: "attempt spec: bad retry delay") }
        retryDelay = delay
        tee = try next("tee") == "1"
        let poke = try next("sensor poke interval"), sensorTimeout = try next("sensor timeout")
        if let interval = Double(poke), let limit = Double(sensorTimeout) {
            sensor = SensorTiming(pokeInterval: interval, timeout: limit)
        } else {
            sensor = nil
        }
        let channelText = try next("attempt channel")
        if channelText == "-" {
            channel = nil
        } else {
            guard let descriptor = Int32(channelText), descriptor > 2 else {
                throw DecodingError(description: "attempt spec: attempt channel '\(channelText)' is not a descriptor above 2")
            }
            channel = descriptor
        }
        var environment: [String: String] = [:]
        for _ in 0..<(try number("environment count")) {
            let name = try next("environment name")
            environment[name] = try next("environment value")
        }
        self.environment = environment
        var argv: [String] = []
        for _ in 0..<(try number("argv count")) { argv.append(try next("argv")) }
        guard !argv.isEmpty else { throw DecodingError(description: "attempt spec has nothing to run") }
        self.argv = argv
    }
}
