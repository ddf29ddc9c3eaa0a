import CCurlShim
import Foundation

extension ExtractHTTP {
    /// GETs with the step's shared budgets: requests spaced to `requests_per_second` across all workers, a 429 or 5xx
    /// (or a network error) retried after its Retry-After, else after 1, 2, 4… s, up to `retries` per request and
    /// `retry_budget` for the whole step, bodies capped at `max_response_bytes`. Safe to call from several threads.
    final class Fetcher: @unchecked Sendable {
        let token: String?
        let interval: Double
        let retries: Int
        let retryBudget: Int
        let timeoutMilliseconds: Int
        let maxBody: Int
        let log: TransformLog
        private let lock = NSLock()
        private var nextSlot = Date.distantPast
        private(set) var requests = 0
        private(set) var retried = 0

        init(token: String?, requestsPerSecond: Int, retries: Int, retryBudget: Int, timeout: Int, maxBody: Int, log: TransformLog) {
            self.token = token
            interval = 1.0 / Double(requestsPerSecond)
            self.retries = retries
            self.retryBudget = retryBudget
            timeoutMilliseconds = timeout * 1000
            self.maxBody = maxBody
            self.log = log
        }

        /// Waits for this request's slot: slots are `interval` apart whichever thread asks.
        private func waitForSlot() {
            let wait = lock.withLock { () -> Double in
                let now = Date()
                let slot = max(now, nextSlot)
                nextSlot = slot.addingTimeInterval(interval)
                requests += 1
                return slot.timeIntervalSince(now)
            }
            if wait > 0 { Thread.sleep(forTimeInterval: wait) }
        }

        private func takeRetry() -> Bool {
            lock.withLock {
                guard retried < retryBudget else { return false }
                retried += 1
                return true
            }
        }

        /// The body of a 2xx answer; nil for a status in `skipping` (a 404 of a deleted id, say).
        func get(_ url: String, skipping: Set<Int> = []) throws(TransformError) -> Data? {
            var attempt = 0
            while true {
                waitForSlot()
                var response = orchestrator_http_get(url, token, timeoutMilliseconds, maxBody)
                defer { orchestrator_http_free(&response) }
                let status = Int(response.status)
                if response.curl_code == 0 && (200..<300).contains(status) {
                    return response.body.map { Data(bytes: $0, count: response.body_length) } ?? Data()
                }
                if response.curl_code == 0 && skipping.contains(status) { return nil }
                let retryable = response.curl_code != 0 || status == 429 || status >= 500
                let reason = response.curl_code != 0
                    ? withUnsafeBytes(of: response.error) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
                    : "HTTP \(status)"
                guard retryable, attempt < retries else {
                    throw TransformError("\(name): GET \(display(url)) failed: \(reason)" + (attempt > 0 ? " after \(attempt + 1) attempts" : "")
                                         + (status == 401 ? " (the token is missing or refused: check the connection)" : ""))
                }
                guard takeRetry() else {
                    throw TransformError("\(name): GET \(display(url)) failed: \(reason), and the step's retry budget (\(retryBudget)) is spent")
                }
                attempt += 1
                let delay = response.retry_after >= 0 ? Double(response.retry_after) : pow(2, Double(attempt - 1))
                log("extract.http: GET \(display(url)): \(reason); retry \(attempt) of \(retries) in \(delay)s")
                Thread.sleep(forTimeInterval: min(delay, 300))
            }
        }
    }
}
