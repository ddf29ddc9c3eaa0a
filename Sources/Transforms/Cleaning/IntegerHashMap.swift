/// Int keys to non-negative Int values, open addressing with linear probing. Per-row dedupe and foreign-key
/// lookups hash with one multiplication (Fibonacci hashing) instead of the SipHash of `Dictionary`, which
/// costs more than the rest of the row; a key and its value share a cache line.
struct IntegerHashMap {
    /// Slot `i` is `slots[2i]` (key) and `slots[2i + 1]` (value, -1 when the slot is empty).
    private var slots: [Int]
    private var shift: Int
    private(set) var count = 0

    init() {
        slots = Self.emptySlots(16)
        shift = 64 - 16.trailingZeroBitCount
    }

    init<Keys: Sequence>(keys: Keys) where Keys.Element == Int {
        self.init()
        for key in keys { updateValue(0, forKey: key) }
    }

    private static func emptySlots(_ count: Int) -> [Int] {
        var slots = [Int](repeating: -1, count: count * 2)
        for index in stride(from: 0, to: slots.count, by: 2) { slots[index] = 0 }
        return slots
    }

    private var capacity: Int { slots.count / 2 }

    @inline(__always)
    private func slot(of key: Int) -> Int {
        Int(truncatingIfNeeded: (UInt64(bitPattern: Int64(key)) &* 0x9E37_79B9_7F4A_7C15) >> UInt64(shift))
    }

    func value(forKey key: Int) -> Int? {
        let mask = capacity - 1
        var index = slot(of: key)
        while true {
            let value = slots[2 * index + 1]
            if value < 0 { return nil }
            if slots[2 * index] == key { return value }
            index = (index + 1) & mask
        }
    }

    @inline(__always)
    func contains(_ key: Int) -> Bool { value(forKey: key) != nil }

    /// Sets the value of `key` (`value` ≥ 0) and returns the one it replaces.
    @discardableResult
    mutating func updateValue(_ value: Int, forKey key: Int) -> Int? {
        precondition(value >= 0, "IntegerHashMap holds non-negative values")
        if (count + 1) * 4 > capacity * 3 { grow() }
        let mask = capacity - 1
        var index = slot(of: key)
        while true {
            let existing = slots[2 * index + 1]
            if existing < 0 {
                slots[2 * index] = key
                slots[2 * index + 1] = value
                count += 1
                return nil
            }
            if slots[2 * index] == key {
                slots[2 * index + 1] = value
                return existing
            }
            index = (index + 1) & mask
        }
    }

    private mutating func grow() {
        let old = slots
        let newCapacity = capacity * 2
        slots = Self.emptySlots(newCapacity)
        shift = 64 - newCapacity.trailingZeroBitCount
        count = 0
        for index in stride(from: 0, to: old.count, by: 2) where old[index + 1] >= 0 {
            updateValue(old[index + 1], forKey: old[index])
        }
    }
}

/// The dedupe index of integer keys: for each key, a value (where its latest row starts). Ids mostly arrive in
/// increasing order, so a key above every key so far is appended to a sorted run, with no lookup and no
/// scattered memory access; only the others (repeats, ids out of order) go through a search or the hash map.
struct IntegerKeyIndex {
    private var sortedKeys: [Int] = []
    private var sortedValues: [Int] = []
    /// Keys that came below the sorted run's last key when first seen.
    private var others = IntegerHashMap()

    /// Sets the value of `key` (`value` ≥ 0) and returns the one it replaces.
    mutating func updateValue(_ value: Int, forKey key: Int) -> Int? {
        guard let last = sortedKeys.last, key <= last else {
            // Above every key in the run, hence above every key in `others` too: a new key.
            sortedKeys.append(key)
            sortedValues.append(value)
            return nil
        }
        var low = 0
        var high = sortedKeys.count
        while low < high {
            let middle = (low + high) / 2
            if sortedKeys[middle] < key { low = middle + 1 } else { high = middle }
        }
        if low < sortedKeys.count && sortedKeys[low] == key {
            let previous = sortedValues[low]
            sortedValues[low] = value
            return previous
        }
        return others.updateValue(value, forKey: key)
    }
}

/// A set of Int keys for per-row membership tests (integer foreign keys). Keys of a referenced table are
/// usually ids in a compact range: then one bit per id in that range, small enough to stay in cache;
/// otherwise an `IntegerHashMap`.
struct IntegerSet {
    private enum Storage {
        /// Bit `key - lowest` of `words` is set for each key.
        case bits(lowest: Int, words: [UInt64])
        case hashed(IntegerHashMap)
    }

    private let storage: Storage

    init(_ keys: Set<Int>) {
        if let lowest = keys.min(), let highest = keys.max(), highest.subtractingReportingOverflow(lowest).overflow == false,
           highest - lowest < 64 * max(keys.count, 1024) {
            var words = [UInt64](repeating: 0, count: (highest - lowest) / 64 + 1)
            for key in keys { words[(key - lowest) / 64] |= 1 << UInt64((key - lowest) % 64) }
            storage = .bits(lowest: lowest, words: words)
        } else {
            storage = .hashed(IntegerHashMap(keys: keys))
        }
    }

    @inline(__always)
    func contains(_ key: Int) -> Bool {
        switch storage {
        case .bits(let lowest, let words):
            let (offset, overflow) = key.subtractingReportingOverflow(lowest)
            guard !overflow, offset >= 0, offset / 64 < words.count else { return false }
            return words[offset / 64] & (1 << UInt64(offset % 64)) != 0
        case .hashed(let map):
            return map.contains(key)
        }
    }
}
