import Foundation
import GRDB
import MetadataStore

extension SQLiteMetadataStore {
    static func date(_ value: Double?) -> Date? { value.map(Date.init(timeIntervalSince1970:)) }

    static func dagRun(_ row: Row) -> DagRun {
        DagRun(
            dagId: row["dag_id"], runId: row["run_id"], logicalDate: Date(timeIntervalSince1970: row["logical_date"]),
            dataIntervalStart: Date(timeIntervalSince1970: row["data_interval_start"]),
            dataIntervalEnd: Date(timeIntervalSince1970: row["data_interval_end"]),
            runType: RunType(rawValue: row["run_type"]) ?? .manual, state: RunState(rawValue: row["state"]) ?? .failed,
            paramsJSON: row["params"] ?? "{}", backfillId: row["backfill_id"],
            createdAt: Date(timeIntervalSince1970: row["created_at"]), startedAt: date(row["started_at"]), endedAt: date(row["ended_at"]))
    }

    static func taskInstance(_ row: Row) -> TaskInstance {
        var ti = TaskInstance(
            key: TaskKey(dagId: row["dag_id"], runId: row["run_id"], taskId: row["task_id"]),
            state: TaskState(rawValue: row["state"]) ?? .none, tryNumber: row["try_number"], maxTries: row["max_tries"],
            pool: row["pool"], priorityWeight: row["priority_weight"])
        ti.nextRetryAt = date(row["next_retry_at"])
        ti.pid = row["pid"]
        ti.taskPid = row["task_pid"]
        ti.hostname = row["hostname"]
        ti.heartbeatAt = date(row["heartbeat_at"])
        ti.exitCode = row["exit_code"]
        ti.signal = row["signal"]
        ti.queuedAt = date(row["queued_at"])
        ti.startedAt = date(row["started_at"])
        ti.endedAt = date(row["ended_at"])
        ti.duration = row["duration"]
        ti.note = row["note"]
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
