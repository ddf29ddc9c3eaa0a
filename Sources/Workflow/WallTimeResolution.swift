import Foundation

/// How one local wall-clock time maps onto instants in a time zone: once, twice (the hour repeated when clocks go
/// back) or not at all (the gap when clocks go forward). Times are "naive" seconds: the wall time read as if UTC.
enum WallTimeResolution: Equatable {
    case single(Int64)
    /// `first` is the earlier instant (the offset before the change), `second` the later one.
    case repeated(first: Int64, second: Int64)
    /// The wall time falls in a gap; `transition` is the instant the offset changed from `offsetBefore` to
    /// `offsetAfter`. The gap's wall times are `[transition + offsetBefore, transition + offsetAfter)`.
    case skipped(transition: Int64, offsetBefore: Int64, offsetAfter: Int64)

    init(wall naive: Int64, in zone: TimeZone) {
        func offset(_ second: Int64) -> Int64 { Self.offset(zone, second) }
        // Every offset is within ±18 h, so the instant lies in naive ± 18 h; a transition in that window shows up
        // as different offsets at its ends.
        let span: Int64 = 18 * 3600
        var candidates = [offset(naive - span), offset(naive + span)]
        for o in candidates where !candidates.contains(offset(naive - o)) { candidates.append(offset(naive - o)) }
        // An offset is valid if the instant it yields really uses it.
        let valid = candidates.filter { offset(naive - $0) == $0 }.map { naive - $0 }
        if let first = valid.min(), let second = valid.max() {
            self = first == second ? .single(first) : .repeated(first: first, second: second)
            return
        }
        var low = naive - (candidates.max() ?? 0)   // before the transition
        var high = naive - (candidates.min() ?? 0)  // at or after it
        let before = offset(low)
        guard offset(high) != before else { self = .single(high); return }  // inconsistent zone data; stay total
        while high - low > 1 {
            let mid = low + (high - low) / 2
            if offset(mid) == before { low = mid } else { high = mid }
        }
        self = .skipped(transition: high, offsetBefore: before, offsetAfter: offset(high))
    }

    /// Airflow's reading of a wall time (`make_aware` sets `fold=1`, pendulum converts): an ambiguous time is its
    /// second occurrence; a time in a gap is read with the offset before the gap, i.e. shifted forward by the gap's
    /// length (02:30 in a one-hour gap at 02:00 is 03:30).
    func airflowInstant(ofWall naive: Int64) -> Int64 {
        switch self {
        case .single(let instant): return instant
        case .repeated(_, let second): return second
        case .skipped(_, let before, _): return naive - before
        }
    }

    static func offset(_ zone: TimeZone, _ second: Int64) -> Int64 {
        Int64(zone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(second))))
    }
}
