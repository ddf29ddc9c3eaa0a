import Foundation
import MetadataStore
import Workflow

/// Plain-text tables and stable JSON for the listing commands.
enum Output {
    /// Columns padded to their widest cell; the last column is not padded.
    static func table(_ header: [String], _ rows: [[String]]) -> String {
        let all = [header] + rows
        var widths = Array(repeating: 0, count: header.count)
        for row in all { for (index, cell) in row.enumerated() where index < widths.count { widths[index] = max(widths[index], cell.count) } }
        return all.map { row in
            row.enumerated().map { index, cell in
                index == row.count - 1 ? cell : cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }.joined(separator: "\n")
    }

    static func printJSON<T: Encodable>(_ value: T) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        print(String(decoding: try encoder.encode(value), as: UTF8.self))
    }

    static func time(_ date: Date?) -> String { date.map(DateParsing.isoUTC) ?? "-" }

    /// Timestamps in JSON: UTC with milliseconds, `2024-01-01T06:00:00.123Z`.
    static func jsonTime(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        formatter.timeZone = TimeZone(secondsFromGMT: 0)
        return formatter.string(from: date)
    }

    /// Foundation on Linux names UTC "GMT"; show what operators write.
    static func zoneName(_ zone: TimeZone) -> String {
        zone.identifier == "GMT" ? "UTC" : zone.identifier
    }

    static func seconds(_ value: Double?) -> String {
        guard let value else { return "-" }
        return value < 10 ? String(format: "%.2fs", value) : DurationParser.format(value.rounded())
    }
}

/// `runs list --json`: one object per run. Field names are part of the CLI contract (docs/cli.md).
struct RunJSON: Encodable {
    let dag_id: String
    let run_id: String
    let run_type: String
    let state: String
    let logical_date: String
    let data_interval_start: String
    let data_interval_end: String
    let params: ConfigValue
    let backfill_id: Int64?
    let created_at: String
    let started_at: String?
    let ended_at: String?

    init(_ run: DagRun) {
        dag_id = run.dagId
        run_id = run.runId
        run_type = run.runType.rawValue
        state = run.state.rawValue
        logical_date = DateParsing.isoUTC(run.logicalDate)
        data_interval_start = DateParsing.isoUTC(run.dataIntervalStart)
        data_interval_end = DateParsing.isoUTC(run.dataIntervalEnd)
        params = ConfigValue.parseJSON(run.paramsJSON) ?? .object([:])
        backfill_id = run.backfillId
        created_at = Output.jsonTime(run.createdAt)
        started_at = run.startedAt.map(Output.jsonTime)
        ended_at = run.endedAt.map(Output.jsonTime)
    }
}

/// `tasks list --json`: one object per task instance.
struct TaskInstanceJSON: Encodable {
    let dag_id: String
    let run_id: String
    let task_id: String
    let state: String
    let try_number: Int
    let max_tries: Int
    let pool: String
    let priority_weight: Int
    let next_retry_at: String?
    let pid: Int32?
    let hostname: String?
    let heartbeat_at: String?
    let exit_code: Int32?
    let signal: Int32?
    let queued_at: String?
    let started_at: String?
    let ended_at: String?
    let duration: Double?
    let note: String?

    init(_ instance: TaskInstance) {
        dag_id = instance.key.dagId
        run_id = instance.key.runId
        task_id = instance.key.taskId
        state = instance.state.rawValue
        try_number = instance.tryNumber
        max_tries = instance.maxTries
        pool = instance.pool
        priority_weight = instance.priorityWeight
        next_retry_at = instance.nextRetryAt.map(Output.jsonTime)
        pid = instance.pid
        hostname = instance.hostname
        heartbeat_at = instance.heartbeatAt.map(Output.jsonTime)
        exit_code = instance.exitCode
        signal = instance.signal
        queued_at = instance.queuedAt.map(Output.jsonTime)
        started_at = instance.startedAt.map(Output.jsonTime)
        ended_at = instance.endedAt.map(Output.jsonTime)
        duration = instance.duration
        note = instance.note
    }
}
