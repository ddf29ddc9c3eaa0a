import Executor
import Foundation

/// What wakes the scheduler. Everything that can change what is ready arrives here, so the loop
/// never sleeps on a fixed interval between a task ending and its downstream starting.
public enum SchedulerEvent: Sendable, Equatable {
    case childExited(pid: Int32, status: ExitStatus)
    /// A CLI request or a worker's outcome was written to the store.
    case wake
    case dagsChanged
    case reload
    case terminate
}

/// A blocking queue of events, fed from signal handlers and watcher threads.
public final class EventQueue: @unchecked Sendable {
    private let condition = NSCondition()
    private var events: [SchedulerEvent] = []

    public init() {}

    public func post(_ event: SchedulerEvent) {
        condition.lock()
        events.append(event)
        condition.signal()
        condition.unlock()
    }

    /// Returns every pending event, waiting until one arrives or `deadline` passes.
    public func wait(until deadline: Date?) -> [SchedulerEvent] {
        condition.lock()
        defer { condition.unlock() }
        while events.isEmpty {
            if let deadline {
                if !condition.wait(until: deadline) { break }
            } else {
                condition.wait()
            }
        }
        let pending = events
        events.removeAll()
        return pending
    }
}
