@testable import Transforms
import XCTest

/// The dedupe and foreign-key structures must answer exactly as a Dictionary would.
final class IntegerHashMapTests: XCTestCase {
    /// Keys as real tables have them: mostly increasing ids, repeats, a few out of order, extremes.
    private func keys(seed: UInt64, count: Int) -> [Int] {
        var random = SeededGenerator(seed: seed)
        var next = Int.random(in: -1000...1000, using: &random)
        var keys: [Int] = []
        for _ in 0..<count {
            switch Int.random(in: 0..<10, using: &random) {
            case 0: keys.append(keys.isEmpty ? next : keys[Int.random(in: 0..<keys.count, using: &random)])  // a repeat
            case 1: keys.append(Int.random(in: (next - 100)...(next + 50), using: &random))  // out of order
            case 2: keys.append([Int.min, Int.max, 0, -1, 1 << 40, 1024 * next][Int.random(in: 0..<6, using: &random)])
            default: next += Int.random(in: 1...3, using: &random); keys.append(next)
            }
        }
        return keys
    }

    func testKeyIndexAgreesWithADictionary() {
        for seed in 0..<20 as Range<UInt64> {
            var index = IntegerKeyIndex()
            var expected: [Int: Int] = [:]
            for (value, key) in keys(seed: seed, count: 5000).enumerated() {
                XCTAssertEqual(index.updateValue(value, forKey: key), expected.updateValue(value, forKey: key), "seed \(seed), key \(key)")
            }
        }
        // Strictly decreasing keys never join the sorted run.
        var index = IntegerKeyIndex()
        for key in stride(from: 1000, to: 0, by: -1) { XCTAssertNil(index.updateValue(key, forKey: key)) }
        for key in 1...1000 { XCTAssertEqual(index.updateValue(0, forKey: key), key) }
    }

    func testHashMapAgreesWithADictionary() {
        for seed in 0..<20 as Range<UInt64> {
            var map = IntegerHashMap()
            var expected: [Int: Int] = [:]
            let keys = keys(seed: seed, count: 5000)
            for (value, key) in keys.enumerated() {
                XCTAssertEqual(map.updateValue(value, forKey: key), expected.updateValue(value, forKey: key), "seed \(seed), key \(key)")
            }
            XCTAssertEqual(map.count, expected.count)
            for key in keys.map({ $0 &+ 1 }) + keys { XCTAssertEqual(map.value(forKey: key), expected[key]) }
        }
        // Keys with a common power-of-two stride still spread.
        let strided = IntegerHashMap(keys: (0..<10_000).map { $0 << 20 })
        XCTAssertTrue((0..<10_000).allSatisfy { strided.contains($0 << 20) })
        XCTAssertFalse(strided.contains(1 << 19))
    }

    func testIntegerSetAgreesWithASet() {
        var random = SeededGenerator(seed: 9)
        let dense = Set((0..<3000).map { _ in Int.random(in: 1...5000, using: &random) })  // kept as bits
        let sparse = Set((0..<3000).map { _ in Int.random(in: Int.min...Int.max, using: &random) })  // hashed
        let extremes: Set<Int> = [Int.min, Int.max, 0, -1]
        for keys in [dense, sparse, extremes, [], [42], Set(-70...70)] {
            let set = IntegerSet(keys)
            let probes = Array(keys) + [Int.min, Int.max, 0, -1, 1, 63, 64, 65, 5001, -5000] + (0..<2000).map { _ in Int.random(in: -10...6000, using: &random) }
            for probe in probes { XCTAssertEqual(set.contains(probe), keys.contains(probe), "\(probe)") }
        }
    }
}

/// `ByteKeyMap` against a Dictionary, on keys that collide in length and prefix, across growth.
final class ByteKeyMapTests: XCTestCase {
    func testAgreesWithADictionary() {
        var random = SeededGenerator(seed: 21)
        let map = ByteKeyMap()
        var expected: [String: Int] = [:]
        let alphabet = Array("ab0-C\u{1F}".utf8)
        for step in 0..<60_000 {
            let length = Int.random(in: 0...40, using: &random)
            let key = String(decoding: (0..<length).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &random)] }, as: UTF8.self)
            var text = key
            let previous = text.withUTF8 { map.updateValue(step, forKey: $0) }
            XCTAssertEqual(previous, expected.updateValue(step, forKey: key), key)
        }
        XCTAssertEqual(map.count, expected.count)
        for (key, value) in expected {
            var text = key
            XCTAssertEqual(text.withUTF8 { map.value(forKey: $0) }, value)
            XCTAssertTrue(map.contains(key))
        }
        XCTAssertFalse(map.contains(String(repeating: "z", count: 41)))
    }

    func testKnownKeysOfTextAndIntegers() {
        let text = KnownKeys(["C0021", "0b9e4a52-3c1f-4d7e-9a2b-6f1c8d3e5a70", ""], integer: false)
        XCTAssertTrue(text.contains("C0021"))
        XCTAssertTrue(text.contains("0b9e4a52-3c1f-4d7e-9a2b-6f1c8d3e5a70"))
        XCTAssertFalse(text.contains("c0021"))
        XCTAssertFalse(text.contains("C002"))
        let integers = KnownKeys(["12", "+7", "x"], integer: true)
        XCTAssertTrue(integers.contains(integer: 12))
        XCTAssertTrue(integers.contains(integer: 7))
        XCTAssertFalse(integers.contains(integer: 8))
        // Distinct keys, counted the same before and after sealing.
        XCTAssertEqual(text.count, 3)
        XCTAssertEqual(integers.count, 2)
        XCTAssertEqual(KnownKeys(["5", "05", "+5", "6"], integer: true).count, 2)
        let pending = KnownKeys(integer: true)
        for key in ["1", "2", "2"] { var key = key; key.withUTF8 { pending.add($0) } }
        XCTAssertEqual(pending.count, 2)
        pending.seal()
        XCTAssertEqual(pending.count, 2)
    }

    /// Two names for one map see the same keys: appending through one never shifts the other's key ranges.
    func testSharedMapsStayConsistent() {
        let first = ByteKeyMap()
        let second = first
        first.insert("abc")
        second.insert("defg")
        for map in [first, second] {
            XCTAssertEqual(map.count, 2)
            XCTAssertTrue(map.contains("abc"))
            XCTAssertTrue(map.contains("defg"))
            XCTAssertFalse(map.contains("abcdefg"))
        }
    }
}
