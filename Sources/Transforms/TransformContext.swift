import Foundation

/// What one transform run knows about its task: the logical date and data interval, where the lake and the
/// warehouse are, the connections it may use, and where to log. Built from the environment the worker gives
/// every task (`ORCHESTRATOR_DS`, `ORCHESTRATOR_DATA_INTERVAL_START`, …), so the library needs no scheduler.
public struct TransformContext: Sendable {
    public var dagId: String
    public var taskId: String
    public var runId: String
    /// `2024-01-01`: the partition this run writes.
    public var ds: String
    public var dataIntervalStart: Date
    public var dataIntervalEnd: Date
    /// The DAG file's folder (the task's working directory): relative option paths resolve against it.
    public var folder: String
    public var home: String
    public var lake: any Lake
    /// The warehouse: `sqlite:///path` (default `$ORCHESTRATOR_HOME/warehouse.db`) or `postgres://…`.
    public var warehouse: String
    /// The scratch SQLite database where gold models are computed, one per DAG.
    public var workDatabase: String
    public var connections: Connections
    public var log: TransformLog
    /// Row counts and quality reports, shown on the task's page.
    public var results = TransformResults()

    public init(dagId: String, taskId: String, runId: String, ds: String, dataIntervalStart: Date, dataIntervalEnd: Date,
                folder: String, home: String, lake: any Lake, warehouse: String, workDatabase: String,
                connections: Connections, log: TransformLog) {
        self.dagId = dagId
        self.taskId = taskId
        self.runId = runId
        self.ds = ds
        self.dataIntervalStart = dataIntervalStart
        self.dataIntervalEnd = dataIntervalEnd
        self.folder = folder
        self.home = home
        self.lake = lake
        self.warehouse = warehouse
        self.workDatabase = workDatabase
        self.connections = connections
        self.log = log
    }

    /// Reads the task's environment. `ORCHESTRATOR_LAKE` (a folder, `file:///path` or `s3://bucket/prefix`) and
    /// `ORCHESTRATOR_WAREHOUSE` override the defaults.
    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment,
                                       folder: String = FileManager.default.currentDirectoryPath) throws(TransformError) -> TransformContext {
        func required(_ name: String) throws(TransformError) -> String {
            guard let value = environment[name], !value.isEmpty else {
                throw TransformError("\(name) is not set: transforms run as tasks of a DAG (orchestrator test DAG, or the daemon)")
            }
            return value
        }
        let home = try required("ORCHESTRATOR_HOME")
        let ds = try required("ORCHESTRATOR_DS")
        try checkDS(ds)
        guard let start = Self.parseTimestamp(try required("ORCHESTRATOR_DATA_INTERVAL_START")),
              let end = Self.parseTimestamp(try required("ORCHESTRATOR_DATA_INTERVAL_END")) else {
            throw TransformError("ORCHESTRATOR_DATA_INTERVAL_START/END are not ISO-8601 timestamps")
        }
        let dagId = environment["ORCHESTRATOR_DAG_ID"] ?? "dag"
        let connections = Connections(environment: environment)
        let lakeURL = environment["ORCHESTRATOR_LAKE"].flatMap { $0.isEmpty ? nil : $0 } ?? "\(home)/lake"
        let lake = try LakeFactory.make(url: lakeURL, home: home, folder: folder, environment: environment, connections: connections)
        let warehouse = environment["ORCHESTRATOR_WAREHOUSE"].flatMap { $0.isEmpty ? nil : $0 } ?? "sqlite://\(home)/warehouse.db"
        return TransformContext(
            dagId: dagId, taskId: environment["ORCHESTRATOR_TASK_ID"] ?? "task", runId: environment["ORCHESTRATOR_RUN_ID"] ?? "run",
            ds: ds, dataIntervalStart: start, dataIntervalEnd: end, folder: folder, home: home,
            lake: lake, warehouse: warehouse,
            workDatabase: "\(home)/work/\(dagId).db", connections: connections, log: TransformLog(redactor: connections.redactor))
    }

    /// `ds` names lake partitions and reaches SQL (bound, or in DDL defaults): only a real calendar date
    /// `YYYY-MM-DD` is accepted, so no value can carry a path or SQL. Years 0001–9999, as DAGs accept (the
    /// column parser's year ≥ 1000 guards data, not logical dates).
    public static func checkDS(_ ds: String) throws(TransformError) {
        let bytes = Array(ds.utf8)
        func number(_ range: Range<Int>) -> Int? {
            var value = 0
            for byte in bytes[range] {
                guard byte >= 0x30 && byte <= 0x39 else { return nil }
                value = value * 10 + Int(byte - 0x30)
            }
            return value
        }
        guard bytes.count == 10, bytes[4] == 0x2D, bytes[7] == 0x2D,
              let year = number(0..<4), let month = number(5..<7), let day = number(8..<10), year >= 1,
              DateFields(year: year, month: month, day: day).isValid else {
            throw TransformError("ORCHESTRATOR_DS '\(ds.prefix(40))' is not a date (YYYY-MM-DD)")
        }
    }

    /// `path` relative to the DAG's folder unless absolute.
    public func resolve(_ path: String) -> String { Self.absolute(path, in: folder) }

    static func absolute(_ path: String, in folder: String) -> String {
        path.hasPrefix("/") ? path : (folder as NSString).appendingPathComponent(path)
    }

    static func parseTimestamp(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        if let date = formatter.date(from: text) { return date }
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.date(from: text)
    }
}

/// The transform's log: lines on stdout, which the worker writes to the attempt's log file. Every line
/// passes through the redactor, so a password or token that slipped into a message is masked.
public struct TransformLog: Sendable {
    let redactor: Redactor

    public init(redactor: Redactor = Redactor(secrets: [])) {
        self.redactor = redactor
    }

    public func callAsFunction(_ message: String) {
        let line = redactor.redact(message) + "\n"
        FileHandle.standardOutput.write(Data(line.utf8))
    }
}
