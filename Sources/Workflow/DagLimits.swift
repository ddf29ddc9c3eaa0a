/// The bounds of every number a DAG file or the configuration can hold, checked at validation so that nothing
/// a file says overflows at run time (docs/dag-format.md, "Limits", lists them).
public enum DagLimits {
    public static let retries = 0...100
    /// Every duration (retry delays, timeouts, poke intervals, SLAs) is at most a year.
    public static let longestDuration: Double = 365 * 86_400
    public static let priorityWeight = -1_000_000...1_000_000
    /// max_active_runs and max_active_tasks.
    public static let activeLimit = 1...10_000
    /// Slots of one pool, in the configuration and `pools set`.
    public static let poolSlots = 0...100_000
    /// The configuration's `parallelism`.
    public static let parallelism = 1...10_000
    /// The configuration's `grace_period`: how long a stopping daemon waits for its tasks.
    public static let longestGracePeriod: Double = 86_400

    /// `"1..100"`-style text for messages.
    public static func describe(_ range: ClosedRange<Int>) -> String {
        "between \(grouped(range.lowerBound)) and \(grouped(range.upperBound))"
    }

    /// 100000 → `100,000`.
    static func grouped(_ value: Int) -> String {
        let digits = String(value.magnitude)
        var out = ""
        for (index, digit) in digits.enumerated() {
            if index > 0 && (digits.count - index) % 3 == 0 { out.append(",") }
            out.append(digit)
        }
        return value < 0 ? "-" + out : out
    }
}
