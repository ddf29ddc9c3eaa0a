import Foundation
import MetadataStore
import Workflow

/// Which scheduled runs are due for a DAG, following Airflow: a run for logical date D is created once
/// its interval [D, next(D)) has ended; catchup fills every missed interval since start_date, otherwise
/// only the latest one; nothing after end_date.
public enum RunCreation {
    public static func dueLogicalDates(dag: DAG, latestExisting: Date?, now: Date, limit: Int = 10_000) -> [Date] {
        guard dag.timetable.cron != nil, let latestComplete = dag.timetable.latestCompleteLogicalDate(asOf: now) else { return [] }
        var last = latestComplete
        if let end = dag.endDate, end < last {
            // One step back from end_date, not a walk from start_date: the walk stops at its date limit.
            guard let capped = dag.timetable.lastFire(atOrBefore: end), capped >= dag.startDate else { return [] }
            last = capped
        }
        guard last >= dag.startDate else { return [] }
        let from: Date
        if let latestExisting {
            guard let afterLatest = dag.timetable.next(after: latestExisting) else { return [] }
            from = max(afterLatest, dag.startDate)
        } else {
            from = dag.startDate
        }
        if !dag.catchup {
            return from <= last ? [last] : []
        }
        return dag.timetable.logicalDates(from: from, through: last, limit: limit)
    }

    /// When the next scheduled run of `dag` becomes due (the end of its next interval).
    public static func nextDueTime(dag: DAG, latestExisting: Date?) -> Date? {
        dag.nextScheduledRun(latestExisting: latestExisting)?.due
    }

    /// The run and its task instances, ready to be inserted.
    public static func makeRun(dag: DAG, logicalDate: Date, interval: DateInterval, type: RunType, params: [String: ConfigValue],
                               backfillId: Int64? = nil, now: Date) -> (DagRun, [TaskInstance]) {
        let runId = DagRun.makeRunId(type: type, logicalDate: logicalDate)
        let run = DagRun(
            dagId: dag.dagId, runId: runId, logicalDate: logicalDate, dataIntervalStart: interval.start,
            dataIntervalEnd: interval.end, runType: type, state: .queued,
            paramsJSON: ConfigValue.object(params).jsonText, backfillId: backfillId, createdAt: now)
        let instances = dag.tasks.map { task in
            TaskInstance(key: TaskKey(dagId: dag.dagId, runId: runId, taskId: task.id), maxTries: task.retry.maxTries,
                         pool: task.pool, priorityWeight: task.priorityWeight)
        }
        return (run, instances)
    }
}
