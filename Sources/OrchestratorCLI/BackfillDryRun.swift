import Foundation
import MetadataStore
import Scheduler
import StoreAddress
import Workflow

/// What `backfill --dry-run` prints: every logical date of the range with its data interval and what the backfill
/// would do with it.
struct BackfillDryRun {
    /// Field names and `action` values are part of the CLI contract (docs/cli.md).
    struct Entry: Encodable, Equatable {
        let logical_date: String
        let data_interval_start: String
        let data_interval_end: String
        /// `create`, `rerun_failed`, `reset`, `leave` (a finished run left as it is) or `follow` (queued or running).
        let action: String
    }

    /// Dates listed by the text form when no `--limit` is given; longer plans end with an "… and N more" line.
    static let defaultLimit = 20

    let entries: [(date: Date, interval: DateInterval, action: String)]
    let zone: TimeZone

    /// `logicalDates` are the range's dates, oldest first: each one's interval ends at the following one (the
    /// schedule's intervals are contiguous), which saves a schedule search per date on long ranges.
    init(plan: BackfillPlan, logicalDates: [Date], timetable: Timetable) {
        var following: [Date: Date] = [:]
        for (date, next) in zip(logicalDates, logicalDates.dropFirst()) { following[date] = next }
        var entries: [(date: Date, interval: DateInterval, action: String)] = []
        for date in plan.create {
            let end = following[date] ?? timetable.dataInterval(forScheduled: date)?.end ?? date
            entries.append((date, DateInterval(start: date, end: end), "create"))
        }
        for (runs, action) in [(plan.rerunFailed, "rerun_failed"), (plan.reset, "reset"), (plan.unchanged, "leave"),
                               (plan.inProgress, "follow")] {
            for run in runs {
                entries.append((run.logicalDate, DateInterval(start: run.dataIntervalStart, end: run.dataIntervalEnd), action))
            }
        }
        self.entries = entries.sorted { $0.date < $1.date }
        self.zone = timetable.timeZone
    }

    var json: [Entry] {
        entries.map {
            Entry(logical_date: DateParsing.isoUTC($0.date), data_interval_start: DateParsing.isoUTC($0.interval.start),
                  data_interval_end: DateParsing.isoUTC($0.interval.end), action: $0.action)
        }
    }

    /// A table in the DAG's time zone, at most `limit` dates, then how many more there are.
    func text(limit: Int?) -> String {
        let shown = limit ?? Self.defaultLimit
        let readable = ["create": "create", "rerun_failed": "re-run failed tasks", "reset": "reset",
                        "leave": "leave as it is", "follow": "follow (in progress)"]
        let rows = entries.prefix(shown).map {
            [DateParsing.iso($0.date, in: zone), DateParsing.iso($0.interval.start, in: zone),
             DateParsing.iso($0.interval.end, in: zone), readable[$0.action] ?? $0.action]
        }
        var text = Output.table(["LOGICAL DATE", "DATA INTERVAL START", "DATA INTERVAL END", "ACTION"], rows)
        if entries.count > shown {
            text += "\n… and \(entries.count - shown) more (--limit \(entries.count) lists them all, --json prints the whole plan)"
        }
        return text
    }

    /// The DAG's runs in the range without writing anything: no store file means no runs, and an existing one is
    /// opened read-only (a dry run in an empty home used to create orchestrator.db).
    static func existingRuns(store url: StoreURL, filter: RunFilter) throws -> [DagRun] {
        if url.backend == .sqlite, let path = url.path, !FileManager.default.fileExists(atPath: path) { return [] }
        let store = try StoreFactory.open(url, options: StoreFactory.Options(readOnly: true))
        do {
            return try store.runs(filter)
        } catch {
            throw CLIError("cannot read the store at \(url): \(error)")
        }
    }
}
