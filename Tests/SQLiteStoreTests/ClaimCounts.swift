import Foundation

/// How many claims won in each round of a race, and what failed; written from several threads.
final class ClaimCounts: @unchecked Sendable {
    private let lock = NSLock()
    private var wins: [Int]
    private var errors: [String] = []

    init(rounds: Int) { wins = Array(repeating: 0, count: rounds) }

    func add(_ round: Int, _ count: Int) { lock.withLock { wins[round] += count } }
    func fail(_ message: String) { lock.withLock { errors.append(message) } }
    var counts: [Int] { lock.withLock { wins } }
    var failures: [String] { lock.withLock { errors } }

    private let finished = DispatchSemaphore(value: 0)
    func finish() { finished.signal() }
    func waitForFinish(_ threads: Int) { for _ in 0..<threads { finished.wait() } }
}
