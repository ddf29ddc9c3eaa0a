import Foundation
import MetadataStore
import PostgresClient

extension PostgresMetadataStore {
    static func date(_ value: Double?) -> Date? { value.map(Date.init(timeIntervalSince1970:)) }
    static func seconds(_ date: Date?) -> Double? { date?.timeIntervalSince1970 }

    /// A text[] literal for `= ANY($n::text[])`, so a list of any length is one bound parameter and one prepared statement.
    static func array(_ values: some Sequence<String>) -> String {
        "{" + values.map { "\"" + $0.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\"" }
            .joined(separator: ",") + "}"
    }

    static func states(_ states: some Sequence<TaskState>) -> String { array(states.map(\.rawValue)) }

    // Rows are decoded by position, in the order of these column lists.
    static let dagRunColumns = """
        dag_id, run_id, logical_date, data_interval_start, data_interval_end, run_type, state, params, backfill_id, \
        created_at, started_at, ended_at
        """

    static func dagRun(_ row: PostgresRow) -> DagRun {
        DagRun(
            dagId: row.string(0) ?? "", runId: row.string(1) ?? "", logicalDate: date(row.double(2)) ?? .distantPast,
            dataIntervalStart: date(row.double(3)) ?? .distantPast, dataIntervalEnd: date(row.double(4)) ?? .distantPast,
            runType: row.string(5).flatMap(RunType.init(rawValue:)) ?? .manual,
            state: row.string(6).flatMap(RunState.init(rawValue:)) ?? .failed,
            paramsJSON: row.string(7) ?? "{}", backfillId: row.int64(8), createdAt: date(row.double(9)) ?? .distantPast,
            startedAt: date(row.double(10)), endedAt: date(row.double(11)))
    }

    static let taskInstanceColumns = """
        dag_id, run_id, task_id, state, try_number, max_tries, pool, priority_weight, next_retry_at, pid, task_pid, \
        hostname, heartbeat_at, exit_code, signal, queued_at, started_at, ended_at, duration, note
        """

    static func taskInstance(_ row: PostgresRow) -> TaskInstance {
        var ti = TaskInstance(
            key: TaskKey(dagId: row.string(0) ?? "", runId: row.string(1) ?? "", taskId: row.string(2) ?? ""),
            state: row.string(3).flatMap(TaskState.init(rawValue:)) ?? .none,
            tryNumber: row.int(4) ?? 0, maxTries: row.int(5) ?? 1, pool: row.string(6) ?? "", priorityWeight: row.int(7) ?? 1)
        ti.nextRetryAt = date(row.double(8))
        ti.pid = row.int(9).map(Int32.init(truncatingIfNeeded:))
        ti.taskPid = row.int(10).map(Int32.init(truncatingIfNeeded:))
        ti.hostname = row.string(11)
        ti.heartbeatAt = date(row.double(12))
        ti.exitCode = row.int(13).map(Int32.init(truncatingIfNeeded:))
        ti.signal = row.int(14).map(Int32.init(truncatingIfNeeded:))
        ti.queuedAt = date(row.double(15))
        ti.startedAt = date(row.double(16))
        ti.endedAt = date(row.double(17))
        ti.duration = row.double(18)
        ti.note = row.string(19)
        return ti
    }

    static let attemptColumns = "try_number, state, hostname, pid, started_at, ended_at, exit_code, signal, note"

    static func attempt(_ row: PostgresRow, key: TaskKey) -> TaskAttempt {
        TaskAttempt(
            key: key, tryNumber: row.int(0) ?? 0, state: row.string(1).flatMap(TaskState.init(rawValue:)) ?? .failed,
            hostname: row.string(2), pid: row.int(3).map(Int32.init(truncatingIfNeeded:)), startedAt: date(row.double(4)),
            endedAt: date(row.double(5)), exitCode: row.int(6).map(Int32.init(truncatingIfNeeded:)),
            signal: row.int(7).map(Int32.init(truncatingIfNeeded:)), note: row.string(8))
    }

    static func column(for field: TaskField) -> (String, PostgresValue?) {
        switch field {
        case .state(let v): return ("state", v.rawValue)
        case .tryNumber(let v): return ("try_number", v)
        case .maxTries(let v): return ("max_tries", v)
        case .nextRetryAt(let v): return ("next_retry_at", seconds(v))
        case .pid(let v): return ("pid", v)
        case .taskPid(let v): return ("task_pid", v)
        case .hostname(let v): return ("hostname", v)
        case .heartbeatAt(let v): return ("heartbeat_at", seconds(v))
        case .exitCode(let v): return ("exit_code", v)
        case .signal(let v): return ("signal", v)
        case .queuedAt(let v): return ("queued_at", seconds(v))
        case .startedAt(let v): return ("started_at", seconds(v))
        case .endedAt(let v): return ("ended_at", seconds(v))
        case .duration(let v): return ("duration", v)
        case .note(let v): return ("note", v)
        }
    }

    static func backfill(_ row: PostgresRow) -> Backfill {
        Backfill(id: row.int64(0) ?? 0, dagId: row.string(1) ?? "", start: date(row.double(2)) ?? .distantPast,
                 end: date(row.double(3)) ?? .distantPast, maxActiveRuns: row.int(4) ?? 1,
                 createdAt: date(row.double(5)) ?? .distantPast)
    }
}
