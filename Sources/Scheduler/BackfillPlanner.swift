import Foundation
import MetadataStore

/// What a backfill does with each logical date of its range. Pure, so that `--dry-run` shows exactly
/// what a real run would do.
public struct BackfillPlan: Sendable, Equatable {
    /// Logical dates with no run yet: a backfill run is created for each.
    public var create: [Date] = []
    /// Failed runs whose failed and upstream_failed tasks run again (`--rerun-failed`).
    public var rerunFailed: [DagRun] = []
    /// Finished runs that run again from scratch (`--reset`).
    public var reset: [DagRun] = []
    /// Runs already queued or running: followed, not touched.
    public var inProgress: [DagRun] = []
    /// Finished runs left as they are.
    public var unchanged: [DagRun] = []

    public init() {}

    /// Whether the backfill starts any work.
    public var startsWork: Bool { !create.isEmpty || !rerunFailed.isEmpty || !reset.isEmpty }
}

public enum BackfillPlanner {
    /// - Parameters:
    ///   - logicalDates: the schedule's logical dates in the range, oldest first.
    ///   - existing: the DAG's runs in the range (runs off the schedule's dates are ignored).
    public static func plan(logicalDates: [Date], existing: [DagRun], rerunFailed: Bool, reset: Bool) -> BackfillPlan {
        let byDate = Dictionary(existing.map { ($0.logicalDate, $0) }, uniquingKeysWith: { a, _ in a })
        var plan = BackfillPlan()
        for date in logicalDates {
            guard let run = byDate[date] else {
                plan.create.append(date)
                continue
            }
            if !run.state.isFinished {
                plan.inProgress.append(run)
            } else if reset {
                plan.reset.append(run)
            } else if rerunFailed && run.state == .failed {
                plan.rerunFailed.append(run)
            } else {
                plan.unchanged.append(run)
            }
        }
        return plan
    }
}
