import MetadataStore
import Workflow

/// What a task's trigger rule says, given the states of its direct upstreams.
public enum Readiness: Sendable, Equatable {
    case waiting
    case ready
    case skip
    case upstreamFailed
}

/// Airflow's trigger rules as a pure function.
public enum TriggerRuleEvaluator {
    public static func evaluate(_ rule: TriggerRule, upstream: [TaskState]) -> Readiness {
        if upstream.isEmpty { return .ready }
        let successes = upstream.filter { $0 == .success }.count
        let failures = upstream.filter { $0 == .failed || $0 == .upstreamFailed }.count
        let skips = upstream.filter { $0 == .skipped }.count
        let allDone = upstream.allSatisfy(\.isFinished)
        switch rule {
        case .allSuccess:
            if failures > 0 { return .upstreamFailed }
            if skips > 0 { return .skip }
            return successes == upstream.count ? .ready : .waiting
        case .allFailed:
            if successes > 0 || skips > 0 { return .skip }
            return allDone ? .ready : .waiting
        case .allDone:
            return allDone ? .ready : .waiting
        case .oneSuccess:
            if successes > 0 { return .ready }
            guard allDone else { return .waiting }
            return skips == upstream.count ? .skip : .upstreamFailed
        case .oneFailed:
            if failures > 0 { return .ready }
            return allDone ? .skip : .waiting
        case .noneFailed:
            if failures > 0 { return .upstreamFailed }
            return allDone ? .ready : .waiting
        case .noneFailedMinOneSuccess:
            if failures > 0 { return .upstreamFailed }
            guard allDone else { return .waiting }
            return successes > 0 ? .ready : .skip
        }
    }
}
