/// Int keys to non-negative Int values, open addressing with linear probing. Per-row dedupe and foreign-key
/// lookups hash with one multiplication (Fibonacci hashing, good for the sequential ids of real tables)
/// instead of the SipHash of `Dictionary`, which costs more than the rest of the row.
struct IntegerHashMap {
    private var keys: [Int]
    /// -1 marks an empty slot.
    private var values: [Int]
    private var shift: Int
    private(set) var count = 0

    init(minimumCapacity: Int = 0) {
        var slots = 16
        while slots < minimumCapacity * 2 { slots *= 2 }
        keys = [Int](repeating: 0, count: slots)
        values = [Int](repeating: -1, count: slots)
        shift = 64 - slots.trailingZeroBitCount
    }

    init<Keys: Sequence>(keys: Keys) where Keys.Element == Int {
        self.init()
        for key in keys { updateValue(0, forKey: key) }
    }

    @inline(__always)
    private func slot(of key: Int) -> Int {
        Int(truncatingIfNeeded: (UInt64(bitPattern: Int64(key)) &* 0x9E37_79B9_7F4A_7C15) >> UInt64(shift))
    }

    func value(forKey key: Int) -> Int? {
        let mask = values.count - 1
        var index = slot(of: key)
        while true {
            let value = values[index]
            if value < 0 { return nil }
            if keys[index] == key { return value }
            index = (index + 1) & mask
        }
    }

    @inline(__always)
    func contains(_ key: Int) -> Bool { value(forKey: key) != nil }

    /// Sets the value of `key` (`value` ≥ 0) and returns the one it replaces.
    @discardableResult
    mutating func updateValue(_ value: Int, forKey key: Int) -> Int? {
        precondition(value >= 0, "IntegerHashMap holds non-negative values")
        if (count + 1) * 4 > values.count * 3 { grow() }
        let mask = values.count - 1
        var index = slot(of: key)
        while true {
            let existing = values[index]
            if existing < 0 {
                keys[index] = key
                values[index] = value
                count += 1
                return nil
            }
            if keys[index] == key {
                values[index] = value
                return existing
            }
            index = (index + 1) & mask
        }
    }

    private mutating func grow() {
        let oldKeys = keys
        let oldValues = values
        let slots = values.count * 2
        keys = [Int](repeating: 0, count: slots)
        values = [Int](repeating: -1, count: slots)
        shift = 64 - slots.trailingZeroBitCount
        count = 0
        for index in oldValues.indices where oldValues[index] >= 0 {
            updateValue(oldValues[index], forKey: oldKeys[index])
        }
    }
}
