import Foundation
import MetadataStore
import Scheduler
import WorkerCore
import Workflow
#if canImport(Glibc)
import Glibc
#endif

/// Helpers shared by the commands that name a run by its logical date.
enum RunLookup {
    /// Parses a `--date` in the DAG's time zone.
    static func parseDate(_ text: String, dag: DAG, option: String = "--date") throws -> Date {
        do { return try DateParsing.parseChecked(text, in: dag.timetable.timeZone) } catch {
            if error == .outOfRange { throw CLIError("\(option) '\(text)' \(error.message)") }
            throw CLIError("\(option) '\(text)' is not a date (use 2024-01-31 or 2024-01-31T06:00, optionally with Z or +01:00)")
        }
    }

    /// The run at exactly that logical date or, for a plain day, the only run whose logical date falls on that day.
    static func findRun(store: any MetadataStore, dag: DAG, date text: String) throws -> DagRun {
        let date = try parseDate(text, dag: dag)
        if let run = try store.run(dagId: dag.dagId, logicalDate: date) { return run }
        let isPlainDay = text.trimmingCharacters(in: .whitespaces).count == 10
        if isPlainDay {
            let endOfDay = date.addingTimeInterval(86_400 - 0.001)
            let sameDay = try store.runs(RunFilter(dagId: dag.dagId, logicalDateFrom: date, logicalDateThrough: endOfDay))
                .filter { DateParsing.day($0.logicalDate, in: dag.timetable.timeZone) == text.trimmingCharacters(in: .whitespaces) }
            if sameDay.count == 1, let run = sameDay.first { return run }
            if sameDay.count > 1 {
                let ids = sameDay.map { DateParsing.iso($0.logicalDate, in: dag.timetable.timeZone) }.joined(separator: ", ")
                throw CLIError("DAG '\(dag.dagId)' has \(sameDay.count) runs on \(text); give the full logical date: \(ids)")
            }
        }
        throw CLIError("DAG '\(dag.dagId)' has no run at \(DateParsing.iso(date, in: dag.timetable.timeZone))")
    }

    /// `--param k=v` pairs, checked against the DAG's declared params.
    static func parseParams(_ pairs: [String], dag: DAG) throws -> [String: ConfigValue] {
        var params: [String: ConfigValue] = [:]
        for pair in pairs {
            guard let equals = pair.firstIndex(of: "="), equals != pair.startIndex else {
                throw CLIError("--param '\(pair)' must look like NAME=VALUE")
            }
            let name = String(pair[..<equals])
            guard dag.params[name] != nil else {
                let declared = dag.params.keys.sorted()
                let hint = declared.isEmpty ? "the DAG declares no params" : "declared: \(declared.joined(separator: ", "))"
                throw CLIError("--param '\(name)' is not a param of DAG '\(dag.dagId)' (\(hint))")
            }
            params[name] = .string(String(pair[pair.index(after: equals)...]))
        }
        return params
    }

    /// Wakes the daemon of this home, if one runs; returns its pid.
    @discardableResult
    static func wakeDaemon(_ layout: HomeLayout, leases: any SchedulerLeaseStore) -> Int32? {
        guard let pid = leases.schedulerLeaseHolder(layout.schedulerLeaseRequest) else {
            return nil
        }
        kill(pid, SIGUSR1)
        return pid
    }
}
