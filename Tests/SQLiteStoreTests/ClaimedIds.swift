import Foundation

/// What racing claimers took, and what more than one of them took; written from several threads.
final class ClaimedIds: @unchecked Sendable {
    private let lock = NSLock()
    private var seen: Set<String> = []
    private var twice: [String] = []

    func add(_ ids: [String]) {
        lock.withLock {
            for id in ids where !seen.insert(id).inserted { twice.append(id) }
        }
    }

    var count: Int { lock.withLock { seen.count } }
    var duplicates: [String] { lock.withLock { twice } }
}
