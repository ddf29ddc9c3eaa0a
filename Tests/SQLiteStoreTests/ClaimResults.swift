import Foundation

/// Which claimers won one round; written from several threads.
final class ClaimResults: @unchecked Sendable {
    private let lock = NSLock()
    private var results: [Bool]

    init(count: Int) { results = Array(repeating: false, count: count) }

    func set(_ index: Int, _ value: Bool) {
        lock.lock()
        results[index] = value
        lock.unlock()
    }

    func winners() -> [Int] {
        lock.lock()
        defer { lock.unlock() }
        return results.indices.filter { results[$0] }
    }

}
