import Transforms
import XCTest

final class SHA256Tests: XCTestCase {
    private func digest(_ text: String) -> String {
        var hash = SHA256()
        hash.update(Array(text.utf8))
        return hash.finalize()
    }

    private func digestThroughBuffer(_ bytes: [UInt8]) -> String {
        var hash = SHA256()
        bytes.withUnsafeBytes { hash.update($0) }
        return hash.finalize()
    }

    // FIPS 180-4 / NIST CAVP examples.
    func testEmpty() {
        XCTAssertEqual(digest(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        XCTAssertEqual(digestThroughBuffer([]), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }

    func testABC() {
        XCTAssertEqual(digest("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(digestThroughBuffer(Array("abc".utf8)), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    func test448Bits() {
        // 56 bytes: the length no longer fits the first padded block.
        let text = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"
        XCTAssertEqual(text.utf8.count, 56)
        XCTAssertEqual(digest(text), "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        XCTAssertEqual(digestThroughBuffer(Array(text.utf8)), "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    }

    func test896Bits() {
        let text = "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu"
        XCTAssertEqual(text.utf8.count, 112)
        XCTAssertEqual(digest(text), "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1")
    }

    func testOneMillionA() {
        let bytes = [UInt8](repeating: 0x61, count: 1_000_000)
        let expected = "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"
        XCTAssertEqual(digestThroughBuffer(bytes), expected)
        var hash = SHA256()
        hash.update(bytes)
        XCTAssertEqual(hash.finalize(), expected)
    }

    func testStreamingInOddChunksEqualsOneUpdate() {
        var random = SeededGenerator(seed: 7)
        for length in [0, 1, 55, 56, 63, 64, 65, 119, 120, 127, 128, 129, 1000, 4099] {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &random) }
            let whole = digestThroughBuffer(bytes)
            XCTAssertEqual(digest(bytes), whole, "length \(length)")

            for chunkSizes in [[1], [3], [7, 5], [13, 64, 1], [63], [65], [127, 2, 31], [200]] {
                var bySequence = SHA256()
                var byBuffer = SHA256()
                var mixed = SHA256()
                var offset = 0
                var turn = 0
                while offset < length {
                    let size = min(chunkSizes[turn % chunkSizes.count], length - offset)
                    let chunk = Array(bytes[offset..<offset + size])
                    bySequence.update(chunk)
                    chunk.withUnsafeBytes { byBuffer.update($0) }
                    if turn % 2 == 0 { mixed.update(chunk[...]) } else { chunk.withUnsafeBytes { mixed.update($0) } }
                    offset += size
                    turn += 1
                }
                XCTAssertEqual(bySequence.finalize(), whole, "length \(length), chunks \(chunkSizes)")
                XCTAssertEqual(byBuffer.finalize(), whole, "length \(length), chunks \(chunkSizes)")
                XCTAssertEqual(mixed.finalize(), whole, "length \(length), chunks \(chunkSizes)")
            }
        }
    }

    private func digest(_ bytes: [UInt8]) -> String {
        var hash = SHA256()
        hash.update(bytes)
        return hash.finalize()
    }

    func testDigestIsLowercaseHex() {
        let text = digest("The quick brown fox jumps over the lazy dog")
        XCTAssertEqual(text, "d7a8fbb307d7809469ca9abcb0082e4f8d5651e46d3cdb762d02d0bf37c9e592")
        XCTAssertEqual(text.count, 64)
    }
}
