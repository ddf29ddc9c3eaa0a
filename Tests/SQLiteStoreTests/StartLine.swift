import Foundation

/// Holds racing threads until all have arrived, so that they start their claims at the same moment.
final class StartLine: @unchecked Sendable {
    private let condition = NSCondition()
    private let runners: Int
    private var arrived = 0
    private var round = 0

    init(runners: Int) { self.runners = runners }

    /// Waits for the other runners of this round.
    func wait() {
        condition.lock()
        defer { condition.unlock() }
        let myRound = round
        arrived += 1
        if arrived == runners {
            arrived = 0
            round += 1
            condition.broadcast()
            return
        }
        while round == myRound { condition.wait() }
    }
}
