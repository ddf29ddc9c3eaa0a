import XCTest
@testable import Workflow

final class RetryPolicyTests: XCTestCase {

    func testDefaults() {
        let policy = RetryPolicy()
        XCTAssertEqual(policy.retries, 0)
        XCTAssertEqual(policy.retryDelay, 300)
        XCTAssertFalse(policy.exponentialBackoff)
        XCTAssertNil(policy.maxRetryDelay)
        XCTAssertEqual(policy.maxTries, 1)
        XCTAssertEqual(policy.delay(afterTry: 1), 300)
    }

    func testMaxTriesIsRetriesPlusOne() {
        XCTAssertEqual(RetryPolicy(retries: 0).maxTries, 1)
        XCTAssertEqual(RetryPolicy(retries: 3).maxTries, 4)
    }

    func testConstantDelayWithoutBackoff() {
        let policy = RetryPolicy(retries: 5, retryDelay: 30)
        XCTAssertEqual((1...5).map { policy.delay(afterTry: $0) }, [30, 30, 30, 30, 30])
    }

    func testConstantDelayIsCappedToo() {
        let policy = RetryPolicy(retries: 2, retryDelay: 300, maxRetryDelay: 60)
        XCTAssertEqual(policy.delay(afterTry: 1), 60)
        XCTAssertEqual(policy.delay(afterTry: 2), 60)
    }

    func testExponentialBackoffDoublesPerTry() {
        let policy = RetryPolicy(retries: 5, retryDelay: 10, exponentialBackoff: true)
        XCTAssertEqual((1...5).map { policy.delay(afterTry: $0) }, [10, 20, 40, 80, 160])
    }

    func testExponentialBackoffIsCappedByMaxRetryDelay() {
        let policy = RetryPolicy(retries: 6, retryDelay: 10, exponentialBackoff: true, maxRetryDelay: 50)
        XCTAssertEqual((1...6).map { policy.delay(afterTry: $0) }, [10, 20, 40, 50, 50, 50])
    }

    func testHugeTryNumbersSaturateAtAYear() {
        // 1 s doubled 40 times is about 35,000 years: the wait saturates at 365 days (31,536,000 s) instead.
        let uncapped = RetryPolicy(retries: 100, retryDelay: 1, exponentialBackoff: true)
        XCTAssertEqual(uncapped.delay(afterTry: 20), 524_288)  // 2^19
        for tryNumber in [41, 61, 1000, Int.max] {
            XCTAssertEqual(uncapped.delay(afterTry: tryNumber), 31_536_000, "try \(tryNumber)")
        }
        // The largest delay a file may hold, doubled as often as possible, still saturates.
        let longest = RetryPolicy(retries: 100, retryDelay: 31_536_000, exponentialBackoff: true)
        XCTAssertEqual(longest.delay(afterTry: 100), 31_536_000)
        XCTAssertEqual(longest.delay(afterTry: Int.min), 31_536_000)
        // And a policy built by hand with absurd numbers neither traps nor returns a non-date.
        XCTAssertEqual(RetryPolicy(retries: Int.max).maxTries, Int.max)
        XCTAssertEqual(RetryPolicy(retryDelay: .infinity).delay(afterTry: 1), 31_536_000)
        XCTAssertEqual(RetryPolicy(retryDelay: .nan).delay(afterTry: 1), 0)
        XCTAssertEqual(RetryPolicy(retryDelay: 1e300, exponentialBackoff: true).delay(afterTry: 60), 31_536_000)
        let capped = RetryPolicy(retries: 1000, retryDelay: 1, exponentialBackoff: true, maxRetryDelay: 3600)
        XCTAssertEqual(capped.delay(afterTry: 1000), 3600)
    }

    func testTryNumberBelowOneUsesTheBaseDelay() {
        let policy = RetryPolicy(retries: 2, retryDelay: 15, exponentialBackoff: true)
        XCTAssertEqual(policy.delay(afterTry: 0), 15)
    }

    func testCodableRoundTrip() throws {
        let policy = RetryPolicy(retries: 2, retryDelay: 30, exponentialBackoff: true, maxRetryDelay: 600)
        let data = try JSONEncoder().encode(policy)
        XCTAssertEqual(try JSONDecoder().decode(RetryPolicy.self, from: data), policy)
    }
}
