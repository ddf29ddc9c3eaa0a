import MetadataStore
import Scheduler
import Workflow
import XCTest

/// Airflow's trigger rules (airflow/ti_deps/deps/trigger_rule_dep.py, with flag_upstream_failed):
/// a decision to skip or fail is taken as soon as the states seen make it certain, even while other
/// upstreams are still unfinished; a task is ready only once its rule is satisfied.
final class TriggerRuleEvaluatorTests: XCTestCase {
    private func evaluate(_ rule: TriggerRule, _ upstream: [TaskState]) -> Readiness {
        TriggerRuleEvaluator.evaluate(rule, upstream: upstream)
    }

    private func check(_ rule: TriggerRule, _ cases: [([TaskState], Readiness)], file: StaticString = #filePath, line: UInt = #line) {
        for (upstream, expected) in cases {
            XCTAssertEqual(TriggerRuleEvaluator.evaluate(rule, upstream: upstream), expected,
                           "\(rule.rawValue) with upstream \(upstream.map(\.rawValue))", file: file, line: line)
        }
    }

    /// States in which an upstream has not finished yet.
    private let unfinished: [TaskState] = [.none, .scheduled, .queued, .running, .upForRetry]

    func testEveryRuleIsReadyWithoutUpstreams() {
        for rule in TriggerRule.allCases {
            XCTAssertEqual(evaluate(rule, []), .ready, rule.rawValue)
        }
    }

    func testEveryRuleWaitsWhileAllUpstreamsAreUnfinished() {
        for rule in TriggerRule.allCases {
            for state in unfinished {
                XCTAssertEqual(evaluate(rule, [state, .none]), .waiting, "\(rule.rawValue) with \(state.rawValue)")
            }
        }
    }

    func testAllSuccess() {
        check(.allSuccess, [
            ([.success], .ready),
            ([.success, .success, .success], .ready),
            ([.success, .running], .waiting),
            ([.success, .upForRetry], .waiting),
            ([.failed], .upstreamFailed),
            ([.upstreamFailed], .upstreamFailed),
            ([.success, .failed], .upstreamFailed),
            // decided at once, without waiting for the others
            ([.failed, .running], .upstreamFailed),
            ([.skipped], .skip),
            ([.success, .skipped], .skip),
            ([.skipped, .running], .skip),
            // failure wins over skip
            ([.skipped, .failed], .upstreamFailed),
        ])
    }

    func testAllFailed() {
        check(.allFailed, [
            ([.failed], .ready),
            ([.failed, .upstreamFailed], .ready),
            ([.failed, .running], .waiting),
            ([.success], .skip),
            ([.failed, .success], .skip),
            ([.skipped, .failed], .skip),
            ([.success, .running], .skip),
        ])
    }

    func testAllDone() {
        check(.allDone, [
            ([.success, .failed, .skipped, .upstreamFailed], .ready),
            ([.failed], .ready),
            ([.skipped, .skipped], .ready),
            ([.failed, .running], .waiting),
            ([.success, .upForRetry], .waiting),
            ([.success, .scheduled], .waiting),
        ])
    }

    func testOneSuccess() {
        check(.oneSuccess, [
            // ready as soon as one succeeds, the others still running
            ([.success, .running, .none], .ready),
            ([.failed, .success], .ready),
            ([.failed, .running], .waiting),
            ([.skipped, .none], .waiting),
            // all done, none succeeded
            ([.failed, .failed], .upstreamFailed),
            ([.failed, .skipped], .upstreamFailed),
            ([.upstreamFailed], .upstreamFailed),
            ([.skipped, .skipped], .skip),
        ])
    }

    func testOneFailed() {
        check(.oneFailed, [
            ([.failed, .running, .none], .ready),
            ([.upstreamFailed, .success], .ready),
            ([.success, .running], .waiting),
            ([.success, .success], .skip),
            ([.success, .skipped], .skip),
            ([.skipped], .skip),
        ])
    }

    func testNoneFailed() {
        check(.noneFailed, [
            ([.success, .success], .ready),
            ([.success, .skipped], .ready),
            ([.skipped, .skipped], .ready),
            ([.success, .running], .waiting),
            ([.failed], .upstreamFailed),
            ([.upstreamFailed, .success], .upstreamFailed),
            ([.failed, .running], .upstreamFailed),
        ])
    }

    func testNoneFailedMinOneSuccess() {
        check(.noneFailedMinOneSuccess, [
            ([.success, .skipped], .ready),
            ([.success], .ready),
            ([.skipped, .skipped], .skip),
            ([.skipped], .skip),
            ([.success, .running], .waiting),
            ([.skipped, .none], .waiting),
            ([.failed, .success], .upstreamFailed),
            ([.upstreamFailed, .skipped], .upstreamFailed),
            ([.failed, .running], .upstreamFailed),
        ])
    }
}
