/// The keys of a referenced table, for `references:` checks on every row: integers for int columns (hashing an
/// Int is far cheaper than hashing text), else the keys' bytes (`ByteKeyMap`), so a text or UUID foreign key is
/// looked up on the cleaned value's bytes without building a String.
final class KnownKeys {
    let isInteger: Bool
    private(set) var integers: IntegerSet?
    private var pendingIntegers: Set<Int> = []
    private var sealedIntegerCount = 0
    private let byteKeys = ByteKeyMap()

    /// An empty set; add keys, then `seal()` before the first lookup.
    init(integer: Bool) {
        isInteger = integer
    }

    convenience init<Keys: Sequence>(_ keys: Keys, integer: Bool) where Keys.Element == String {
        self.init(integer: integer)
        for key in keys {
            var key = key
            key.withUTF8 { add($0) }
        }
        seal()
    }

    /// One key as written in the referenced silver table (integers in their canonical form there).
    func add(_ bytes: UnsafeBufferPointer<UInt8>) {
        if isInteger {
            if let value = ByteColumnCleaner.parseInteger(bytes) ?? Int(String(decoding: bytes, as: UTF8.self)) { pendingIntegers.insert(value) }
        } else {
            byteKeys.updateValue(0, forKey: bytes)
        }
    }

    func seal() {
        if isInteger {
            integers = IntegerSet(pendingIntegers)
            sealedIntegerCount = pendingIntegers.count
            pendingIntegers = []
        }
    }

    /// Distinct keys, before and after sealing.
    var count: Int { isInteger ? (integers == nil ? pendingIntegers.count : sealedIntegerCount) : byteKeys.count }

    @inline(__always)
    func contains(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool { byteKeys.contains(bytes) }

    func contains(_ text: String) -> Bool { byteKeys.contains(text) }

    @inline(__always)
    func contains(integer: Int) -> Bool { integers?.contains(integer) ?? false }
}
