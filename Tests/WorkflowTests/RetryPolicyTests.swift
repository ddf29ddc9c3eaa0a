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

    func testHugeTryNumbersStayFiniteAndCapped() {
        let uncapped = RetryPolicy(retries: 1000, retryDelay: 1, exponentialBackoff: true)
        XCTAssertEqual(uncapped.delay(afterTry: 1000), pow(2, 60))
        XCTAssertTrue(uncapped.delay(afterTry: 1000).isFinite)
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
