#if canImport(Glibc)
import Glibc
#endif

/// Byte-string keys (text ids, UUIDs, composite keys) to non-negative Int values: the string counterpart of
/// `IntegerHashMap`, for per-row dedupe and foreign-key lookups without building a String. Keys are copied once
/// into one arena; the table is open addressing with linear probing over 8-byte slots (a 32-bit hash tag and the
/// entry's number), so a lookup hashes the bytes in 8-byte words, probes a flat array and compares bytes only
/// when the tags agree. About 8 bytes a slot plus 24 an entry plus the key bytes: 1,000,000 UUID keys take
/// ~75 MB, about half a `[String: Int]`. A class: the arena is shared storage, so a copied struct would let two
/// copies append to one arena and read each other's bytes as their keys.
final class ByteKeyMap {
    private let arena = ByteBuffer(capacity: 1 << 16)
    /// Entry `i`'s key is `arena[entryEnds[i - 1] ..< entryEnds[i]]` (from 0 for the first).
    private var entryEnds: [Int] = []
    private var values: [Int] = []
    /// Each entry's hash, so that growing never reads the keys again.
    private var hashes: [UInt64] = []
    /// 0: empty; else tag << 32 | (entry + 1).
    private var slots = [UInt64](repeating: 0, count: 16)
    private var shift: UInt64 = 64 - 4

    init() {}

    var count: Int { values.count }

    @inline(__always)
    static func hash(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt64 {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(bytes.count)
        guard let base = bytes.baseAddress.map(UnsafeRawPointer.init) else { return finish(state) }
        let count = bytes.count
        var offset = 0
        while offset + 8 <= count {
            let word = base.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
            state = (state ^ word) &* 0xFF51_AFD7_ED55_8CCD
            state ^= state >> 29
            offset += 8
        }
        if offset < count {
            var word: UInt64 = 0
            var bit: UInt64 = 0
            while offset < count {
                word |= UInt64(base.load(fromByteOffset: offset, as: UInt8.self)) << bit
                bit += 8
                offset += 1
            }
            state = (state ^ word) &* 0xFF51_AFD7_ED55_8CCD
            state ^= state >> 29
        }
        return finish(state)
    }

    @inline(__always)
    private static func finish(_ value: UInt64) -> UInt64 {
        var state = value
        state ^= state >> 33
        state = state &* 0xC4CE_B9FE_1A85_EC53
        state ^= state >> 33
        return state
    }

    @inline(__always)
    private func key(of entry: Int) -> UnsafeBufferPointer<UInt8> {
        arena.bytes((entry == 0 ? 0 : entryEnds[entry - 1])..<entryEnds[entry])
    }

    @inline(__always)
    private func equal(_ entry: Int, _ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        let stored = key(of: entry)
        guard stored.count == bytes.count else { return false }
        guard let left = stored.baseAddress, let right = bytes.baseAddress else { return true }  // both empty
        return memcmp(left, right, bytes.count) == 0
    }

    /// The slot holding `bytes`, or the empty slot where it would go.
    @inline(__always)
    private func find(_ bytes: UnsafeBufferPointer<UInt8>, hash: UInt64) -> Int {
        let mask = slots.count - 1
        let tag = hash & 0xFFFF_FFFF
        var index = Int(truncatingIfNeeded: hash >> shift)
        while true {
            let slot = slots[index]
            if slot == 0 { return index }
            if slot >> 32 == tag && equal(Int(truncatingIfNeeded: slot & 0xFFFF_FFFF) - 1, bytes) { return index }
            index = (index + 1) & mask
        }
    }

    func value(forKey bytes: UnsafeBufferPointer<UInt8>) -> Int? {
        let slot = slots[find(bytes, hash: Self.hash(bytes))]
        return slot == 0 ? nil : values[Int(truncatingIfNeeded: slot & 0xFFFF_FFFF) - 1]
    }

    @inline(__always)
    func contains(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        slots[find(bytes, hash: Self.hash(bytes))] != 0
    }

    func contains(_ text: String) -> Bool {
        var text = text
        return text.withUTF8 { contains($0) }
    }

    /// Sets the value of `bytes` (`value` ≥ 0) and returns the one it replaces.
    @discardableResult
    func updateValue(_ value: Int, forKey bytes: UnsafeBufferPointer<UInt8>) -> Int? {
        let hash = Self.hash(bytes)
        let index = find(bytes, hash: hash)
        let slot = slots[index]
        if slot != 0 {
            let entry = Int(truncatingIfNeeded: slot & 0xFFFF_FFFF) - 1
            let previous = values[entry]
            values[entry] = value
            return previous
        }
        precondition(values.count < Int(UInt32.max) - 1, "ByteKeyMap holds fewer than 2^32 keys")
        arena.append(bytes)
        entryEnds.append(arena.count)
        values.append(value)
        hashes.append(hash)
        if values.count * 4 > slots.count * 3 {
            grow()
        } else {
            slots[index] = (hash & 0xFFFF_FFFF) << 32 | UInt64(values.count)
        }
        return nil
    }

    func insert(_ text: String) {
        var text = text
        text.withUTF8 { _ = updateValue(0, forKey: $0) }
    }

    /// Doubles the table and places every entry again (the new one included).
    private func grow() {
        let capacity = slots.count * 2
        slots = [UInt64](repeating: 0, count: capacity)
        shift = 64 - UInt64(capacity.trailingZeroBitCount)
        let mask = capacity - 1
        for entry in 0..<values.count {
            let hash = hashes[entry]
            var index = Int(truncatingIfNeeded: hash >> shift)
            while slots[index] != 0 { index = (index + 1) & mask }
            slots[index] = (hash & 0xFFFF_FFFF) << 32 | UInt64(entry + 1)
        }
    }
}
