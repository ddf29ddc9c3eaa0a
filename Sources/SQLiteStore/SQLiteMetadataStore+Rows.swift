import Foundation
import GRDB
import MetadataStore

extension SQLiteMetadataStore {
    static func date(_ value: Double?) -> Date? { value.map(Date.init(timeIntervalSince1970:)) }

    // Rows are decoded by position: looking columns up by name dominated the scheduler's profile.
    static let dagRunColumns = """
        dag_id, run_id, logical_date, data_interval_start, data_interval_end, run_type, state, params, backfill_id, \
        created_at, started_at, ended_at
        """

    static func dagRun(_ row: Row) -> DagRun {
        DagRun(
            dagId: row[0], runId: row[1], logicalDate: Date(timeIntervalSince1970: row[2]),
            dataIntervalStart: Date(timeIntervalSince1970: row[3]), dataIntervalEnd: Date(timeIntervalSince1970: row[4]),
            runType: RunType(rawValue: row[5]) ?? .manual, state: RunState(rawValue: row[6]) ?? .failed,
            paramsJSON: row[7] ?? "{}", backfillId: row[8], createdAt: Date(timeIntervalSince1970: row[9]),
            startedAt: date(row[10]), endedAt: date(row[11]))
    }

    static let taskInstanceColumns = """
        dag_id, run_id, task_id, state, try_number, max_tries, pool, priority_weight, next_retry_at, pid, task_pid, \
        hostname, heartbeat_at, exit_code, signal, queued_at, started_at, ended_at, duration, note
        """

    static func taskInstance(_ row: Row) -> TaskInstance {
        var ti = TaskInstance(
            key: TaskKey(dagId: row[0], runId: row[1], taskId: row[2]), state: TaskState(rawValue: row[3]) ?? .none,
            tryNumber: row[4], maxTries: row[5], pool: row[6], priorityWeight: row[7])
        ti.nextRetryAt = date(row[8])
        ti.pid = row[9]
        ti.taskPid = row[10]
        ti.hostname = row[11]
        ti.heartbeatAt = date(row[12])
        ti.exitCode = row[13]
        ti.signal = row[14]
        ti.queuedAt = date(row[15])
        ti.startedAt = date(row[16])
        ti.endedAt = date(row[17])
        ti.duration = row[18]
        ti.note = row[19]
        return ti
    }

    static func column(for field: TaskField) -> (String, (any DatabaseValueConvertible)?) {
        switch field {
        case .state(let v): return ("state", v.rawValue)
        case .tryNumber(let v): return ("try_number", v)
        case .maxTries(let v): return ("max_tries", v)
        case .nextRetryAt(let v): return ("next_retry_at", v?.timeIntervalSince1970)
        case .pid(let v): return ("pid", v)
        case .taskPid(let v): return ("task_pid", v)
        case .hostname(let v): return ("hostname", v)
        case .heartbeatAt(let v): return ("heartbeat_at", v?.timeIntervalSince1970)
        case .exitCode(let v): return ("exit_code", v)
        case .signal(let v): return ("signal", v)
        case .queuedAt(let v): return ("queued_at", v?.timeIntervalSince1970)
        case .startedAt(let v): return ("started_at", v?.timeIntervalSince1970)
        case .endedAt(let v): return ("ended_at", v?.timeIntervalSince1970)
        case .duration(let v): return ("duration", v)
        case .note(let v): return ("note", v)
        }
    }
}
