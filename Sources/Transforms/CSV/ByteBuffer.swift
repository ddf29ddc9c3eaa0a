/// A growable byte buffer for per-row work: appends without the uniqueness and capacity bookkeeping an
/// Array pays on every call, and a view of its bytes without copying.
final class ByteBuffer {
    private(set) var base: UnsafeMutablePointer<UInt8>
    private(set) var count = 0
    private var capacity: Int

    init(capacity: Int = 1 << 12) {
        self.capacity = max(capacity, 16)
        base = .allocate(capacity: self.capacity)
    }

    deinit { base.deallocate() }

    var bytes: UnsafeBufferPointer<UInt8> { UnsafeBufferPointer(start: base, count: count) }

    /// Bytes `range` of the buffer, valid until the next append.
    @inline(__always)
    func bytes(_ range: Range<Int>) -> UnsafeBufferPointer<UInt8> {
        UnsafeBufferPointer(start: base + range.lowerBound, count: range.count)
    }

    @inline(__always)
    func append(_ byte: UInt8) {
        if count == capacity { grow(to: count + 1) }
        base[count] = byte
        count += 1
    }

    @inline(__always)
    func append(_ source: UnsafeBufferPointer<UInt8>) {
        guard let sourceBase = source.baseAddress else { return }
        if count + source.count > capacity { grow(to: count + source.count) }
        (base + count).update(from: sourceBase, count: source.count)
        count += source.count
    }

    func append(_ source: UnsafeRawBufferPointer) {
        append(source.assumingMemoryBound(to: UInt8.self))
    }

    func append(_ text: String) {
        var text = text
        text.withUTF8 { append($0) }
    }

    func append(_ bytes: [UInt8]) {
        bytes.withUnsafeBufferPointer { append($0) }
    }

    /// Lets `body` write up to `maxCount` bytes at the end directly; it returns how many it wrote.
    @inline(__always)
    func appendDirectly(maxCount: Int, _ body: (UnsafeMutablePointer<UInt8>) -> Int) {
        if count + maxCount > capacity { grow(to: count + maxCount) }
        count += body(base + count)
    }

    /// Drops every byte from `newCount` on.
    @inline(__always)
    func truncate(to newCount: Int) {
        count = min(count, newCount)
    }

    func removeAll() { count = 0 }

    private func grow(to needed: Int) {
        var newCapacity = capacity * 2
        while newCapacity < needed { newCapacity *= 2 }
        let larger = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
        larger.update(from: base, count: count)
        base.deallocate()
        base = larger
        capacity = newCapacity
    }
}
