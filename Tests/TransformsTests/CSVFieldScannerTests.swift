import Foundation
@testable import Transforms
import XCTest

/// `CSVFieldScanner` must read every input exactly as `CSVReader` does: same records, same lines, same errors.
final class CSVFieldScannerTests: XCTestCase {
    private var directory: TemporaryDirectory!

    override func setUpWithError() throws { directory = try TemporaryDirectory() }
    override func tearDown() { directory = nil }

    /// Small buffers (the minimum is 64) put a refill boundary everywhere; a small one also makes records
    /// longer than the buffer, which must grow it.
    private let bufferSizes = [64, 65, 67, 100, 1 << 20]

    private func scan(_ path: String, bufferSize: Int) throws -> (records: [[String]], lines: [Int]) {
        let scanner = try CSVFieldScanner(path: path, bufferSize: bufferSize)
        var records: [[String]] = []
        var lines: [Int] = []
        while try scanner.next() {
            records.append(scanner.strings())
            lines.append(scanner.line)
        }
        XCTAssertFalse(try scanner.next(), "the scanner must stay at the end")
        return (records, lines)
    }

    private func read(_ path: String) throws -> (records: [[String]], lines: [Int]) {
        let reader = try CSVReader(path: path)
        var records: [[String]] = []
        var lines: [Int] = []
        while let record = try reader.next() {
            records.append(record)
            lines.append(reader.line)
        }
        return (records, lines)
    }

    private func records(_ text: String, bufferSize: Int = 1 << 20) throws -> [[String]] {
        try records(Array(text.utf8), bufferSize: bufferSize)
    }

    private func records(_ bytes: [UInt8], bufferSize: Int = 1 << 20) throws -> [[String]] {
        let path = try directory.write("input-\(UUID().uuidString).csv", bytes: bytes)
        return try scan(path, bufferSize: bufferSize).records
    }

    func testQuotesCommasAndLineBreaksInsideFields() throws {
        for size in bufferSizes {
            XCTAssertEqual(try records("id,name\n1,Ada\n", bufferSize: size), [["id", "name"], ["1", "Ada"]])
            XCTAssertEqual(try records("\"a,b\",c\n", bufferSize: size), [["a,b", "c"]])
            XCTAssertEqual(try records("\"say \"\"hi\"\"\",x\n", bufferSize: size), [["say \"hi\"", "x"]])
            XCTAssertEqual(try records("\"\"\"\",\"\"\n", bufferSize: size), [["\"", ""]])
            XCTAssertEqual(try records("\"line1\nline2\",x\n", bufferSize: size), [["line1\nline2", "x"]])
            XCTAssertEqual(try records("\"line1\r\nline2\",x\r\nnext,row\r\n", bufferSize: size), [["line1\r\nline2", "x"], ["next", "row"]])
            // Text after a closing quote, and quotes inside an unquoted field, are kept as text.
            XCTAssertEqual(try records("\"ab\"cd,e\n", bufferSize: size), [["abcd", "e"]])
            XCTAssertEqual(try records("\"a\"\"b\"c\"d,e\n", bufferSize: size), [["a\"bc\"d", "e"]])
            XCTAssertEqual(try records("ab\"c,d\n", bufferSize: size), [["ab\"c", "d"]])
            XCTAssertEqual(try records("\"\"x,y\n", bufferSize: size), [["x", "y"]])
        }
    }

    func testCRLFLoneCRBlankLinesAndMissingFinalNewline() throws {
        for size in bufferSizes {
            XCTAssertEqual(try records("a,b\r\nc,d\ne,f\r\n", bufferSize: size), [["a", "b"], ["c", "d"], ["e", "f"]])
            XCTAssertEqual(try records("a,b\rc,d\r", bufferSize: size), [["a", "b"], ["c", "d"]])
            XCTAssertEqual(try records("a\n\nb\n", bufferSize: size), [["a"], [""], ["b"]])
            XCTAssertEqual(try records("a\r\n\r\nb\r\n", bufferSize: size), [["a"], [""], ["b"]])
            XCTAssertEqual(try records("a,b\nc,d", bufferSize: size), [["a", "b"], ["c", "d"]])
            XCTAssertEqual(try records("a,b\nc,", bufferSize: size), [["a", "b"], ["c", ""]])
            XCTAssertEqual(try records("a,b\n\"c,d\"", bufferSize: size), [["a", "b"], ["c,d"]])
            XCTAssertEqual(try records(",,\n", bufferSize: size), [["", "", ""]])
        }
        XCTAssertEqual(try records(""), [])
    }

    func testByteOrderMarkOnlyAtTheStart() throws {
        let bom: [UInt8] = [0xEF, 0xBB, 0xBF]
        for size in bufferSizes {
            XCTAssertEqual(try records(bom + Array("id,name\n1,x\n".utf8), bufferSize: size), [["id", "name"], ["1", "x"]])
            XCTAssertEqual(try records(bom + Array("\"id,x\",name\n".utf8), bufferSize: size), [["id,x", "name"]])
            XCTAssertEqual(try records(bom, bufferSize: size), [])
        }
        XCTAssertEqual(try records(Array("a\n".utf8) + bom + Array("b\n".utf8)), [["a"], ["\u{FEFF}b"]])
    }

    func testInvalidUTF8IsRepairedLikeTheReader() throws {
        XCTAssertEqual(try records([0x61, 0x2C, 0xFF, 0x62, 0x2C, 0x63, 0x0A]), [["a", "\u{FFFD}b", "c"]])
        XCTAssertEqual(try records("é,日本,🎉\n"), [["é", "日本", "🎉"]])
    }

    func testFieldsAsBytes() throws {
        let path = try directory.write("bytes.csv", "plain,\"quoted\",\"esc\"\"aped\",\n")
        let scanner = try CSVFieldScanner(path: path)
        XCTAssertTrue(try scanner.next())
        XCTAssertEqual(scanner.fieldCount, 4)
        XCTAssertEqual((0..<scanner.fieldCount).map { Array(scanner.field($0)) },
                       [Array("plain".utf8), Array("quoted".utf8), Array("esc\"aped".utf8), []])
    }

    func testUnclosedQuoteNamesTheFileAndLine() throws {
        let path = try directory.write("broken.csv", "id,note\n1,\"ok\nfine\"\n2,\"never\nclosed\n3,x\n")
        for size in bufferSizes {
            let scanner = try CSVFieldScanner(path: path, bufferSize: size)
            XCTAssertTrue(try scanner.next())
            XCTAssertTrue(try scanner.next())
            XCTAssertEqual(scanner.line, 2)
            XCTAssertThrowsError(try scanner.next()) { error in
                let message = (error as? CSVReader.Failure)?.description ?? ""
                XCTAssertEqual(message, "\(path):4: a quoted field is not closed before the end of the file")
            }
        }
    }

    func testMissingFileIsAnError() {
        let path = directory.file("missing.csv")
        XCTAssertThrowsError(try CSVFieldScanner(path: path)) { error in
            XCTAssertTrue(((error as? CSVReader.Failure)?.description ?? "").contains("cannot open \(path)"))
        }
    }

    /// Random mixes of the awkward pieces, compared with CSVReader record by record and line by line.
    func testAgreesWithCSVReaderOnRandomInput() throws {
        var random = SeededGenerator(seed: 7)
        let pieces: [[UInt8]] = ["a", "Z", "0", " ", ",", "\"", "\"\"", "\n", "\r\n", "\r", "é", "\u{FEFF}", "x y", "\t"].map { Array($0.utf8) }
            + [[0xFF], [0xC3], [0xEF, 0xBB, 0xBF]]
        for round in 0..<300 {
            var bytes: [UInt8] = []
            for _ in 0..<Int.random(in: 0...120, using: &random) {
                bytes += pieces[Int.random(in: 0..<pieces.count, using: &random)]
            }
            let path = try directory.write("random-\(round).csv", bytes: bytes)
            // Records and lines, or the error's text.
            var expected = ""
            do { expected = "\(try read(path))" } catch { expected = "error: \(error)" }
            for size in [64, 71, 1 << 20] {
                var actual = ""
                do { actual = "\(try scan(path, bufferSize: size))" } catch { actual = "error: \(error)" }
                XCTAssertEqual(actual, expected, "round \(round), bufferSize \(size): \(bytes)")
            }
        }
    }

    /// Records much longer than the buffer, with every kind of field, across refills.
    func testRecordsLongerThanTheBuffer() throws {
        let big = String(repeating: "0123456789,\"\n\r\né", count: 100)
        let quoted = "\"" + big.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        let plain = String(repeating: "x", count: 1000)
        let text = "head," + quoted + ",tail\r\n" + plain + "," + plain + "\n" + quoted + "after\n"
        for size in bufferSizes {
            XCTAssertEqual(try records(text, bufferSize: size), [["head", big, "tail"], [plain, plain], [big + "after"]], "bufferSize \(size)")
        }
    }

    /// A quote left open early in a big file must not read the whole file into memory.
    func testARecordLongerThanTheLimitIsAnErrorNotUnboundedMemory() throws {
        let directory = try TemporaryDirectory()
        let path = try directory.write("open.csv", "a,b\n1,\"never closed\n" + String(repeating: "x,y\n", count: 1000))
        let scanner = try CSVFieldScanner(path: path, bufferSize: 64, maxRecordBytes: 1024)
        XCTAssertTrue(try scanner.next())
        XCTAssertThrowsError(try scanner.next()) { error in
            XCTAssertEqual("\(error)", "\(path):2: a record is longer than 0 MiB (a quote left open?)")
        }
        // Within the limit, a long record still grows the buffer.
        let long = try directory.write("long.csv", "a\n\"" + String(repeating: "z", count: 900) + "\"\n")
        let fine = try CSVFieldScanner(path: long, bufferSize: 64, maxRecordBytes: 1024)
        XCTAssertTrue(try fine.next())
        XCTAssertTrue(try fine.next())
        XCTAssertEqual(fine.field(0).count, 900)
    }
}
