import Foundation
import Transforms
import XCTest

final class CSVReaderTests: XCTestCase {
    private var directory: TemporaryDirectory!

    override func setUpWithError() throws { directory = try TemporaryDirectory() }
    override func tearDown() { directory = nil }

    /// Every record of `path`, with the line each one starts on.
    private func readAll(_ path: String, bufferSize: Int = 1 << 20) throws -> (records: [[String]], lines: [Int]) {
        let reader = try CSVReader(path: path, bufferSize: bufferSize)
        var records: [[String]] = []
        var lines: [Int] = []
        while let record = try reader.next() {
            records.append(record)
            lines.append(reader.line)
        }
        XCTAssertNil(try reader.next(), "the reader must stay at the end")
        return (records, lines)
    }

    private func records(_ bytes: [UInt8], bufferSize: Int = 1 << 20) throws -> [[String]] {
        let path = try directory.write("input-\(UUID().uuidString).csv", bytes: bytes)
        return try readAll(path, bufferSize: bufferSize).records
    }

    private func records(_ text: String, bufferSize: Int = 1 << 20) throws -> [[String]] {
        try records(Array(text.utf8), bufferSize: bufferSize)
    }

    /// Small buffers (the minimum is 64) make every refill boundary fall somewhere in the input.
    private let bufferSizes = [64, 65, 67, 100, 1 << 20]

    func testPlainRecordsWithLFAndCRLF() throws {
        for size in bufferSizes {
            XCTAssertEqual(try records("id,name\n1,Ada\n2,Grace\n", bufferSize: size), [["id", "name"], ["1", "Ada"], ["2", "Grace"]])
            XCTAssertEqual(try records("id,name\r\n1,Ada\r\n2,Grace\r\n", bufferSize: size), [["id", "name"], ["1", "Ada"], ["2", "Grace"]])
            XCTAssertEqual(try records("a,b\r\nc,d\ne,f\r\n", bufferSize: size), [["a", "b"], ["c", "d"], ["e", "f"]])
            // A lone CR also ends a line.
            XCTAssertEqual(try records("a,b\rc,d\r", bufferSize: size), [["a", "b"], ["c", "d"]])
        }
    }

    func testQuotedFields() throws {
        for size in bufferSizes {
            XCTAssertEqual(try records("\"a,b\",c\n", bufferSize: size), [["a,b", "c"]])
            XCTAssertEqual(try records("\"say \"\"hi\"\"\",x\n", bufferSize: size), [["say \"hi\"", "x"]])
            XCTAssertEqual(try records("\"\"\"\",\"\"\n", bufferSize: size), [["\"", ""]])
            XCTAssertEqual(try records("\"line1\nline2\",x\n", bufferSize: size), [["line1\nline2", "x"]])
            XCTAssertEqual(try records("\"line1\r\nline2\",x\r\nnext,row\r\n", bufferSize: size), [["line1\r\nline2", "x"], ["next", "row"]])
            XCTAssertEqual(try records("1,\"a,\"\"b\"\",\nc\",2\n", bufferSize: size), [["1", "a,\"b\",\nc", "2"]])
            // A quote inside an unquoted field is kept as text.
            XCTAssertEqual(try records("ab\"c,d\n", bufferSize: size), [["ab\"c", "d"]])
        }
    }

    func testEmptyFieldsAndMissingFinalNewline() throws {
        for size in bufferSizes {
            XCTAssertEqual(try records("a,b,\n", bufferSize: size), [["a", "b", ""]])
            XCTAssertEqual(try records(",,\n", bufferSize: size), [["", "", ""]])
            XCTAssertEqual(try records("a,b\nc,d", bufferSize: size), [["a", "b"], ["c", "d"]])
            XCTAssertEqual(try records("a,b\nc,", bufferSize: size), [["a", "b"], ["c", ""]])
            XCTAssertEqual(try records("a,b\n\"c,d\"", bufferSize: size), [["a", "b"], ["c,d"]])
            XCTAssertEqual(try records("a,b\r\nc,d\r", bufferSize: size), [["a", "b"], ["c", "d"]])
        }
        XCTAssertEqual(try records(""), [])
    }

    func testBlankLinesAreRecordsWithOneEmptyField() throws {
        for size in bufferSizes {
            XCTAssertEqual(try records("a\n\nb\n", bufferSize: size), [["a"], [""], ["b"]])
            XCTAssertEqual(try records("a\r\n\r\nb\r\n", bufferSize: size), [["a"], [""], ["b"]])
        }
    }

    func testByteOrderMarkIsSkipped() throws {
        let bom: [UInt8] = [0xEF, 0xBB, 0xBF]
        for size in bufferSizes {
            XCTAssertEqual(try records(bom + Array("id,name\n1,x\n".utf8), bufferSize: size), [["id", "name"], ["1", "x"]])
            XCTAssertEqual(try records(bom + Array("\"id,x\",name\n".utf8), bufferSize: size), [["id,x", "name"]])
        }
        // Only at the start: a BOM later in the file is data.
        XCTAssertEqual(try records(Array("a\n".utf8) + bom + Array("b\n".utf8)), [["a"], ["\u{FEFF}b"]])
    }

    func testInvalidUTF8IsRepaired() throws {
        XCTAssertEqual(try records([0x61, 0x2C, 0xFF, 0x62, 0x2C, 0x63, 0x0A]), [["a", "\u{FFFD}b", "c"]])
        // A truncated two-byte sequence at the end of a field.
        XCTAssertEqual(try records([0x78, 0xC3, 0x2C, 0x79, 0x0A]), [["x\u{FFFD}", "y"]])
        // Valid multi-byte characters survive.
        XCTAssertEqual(try records("é,日本,🎉\n"), [["é", "日本", "🎉"]])
    }

    func testFieldLargerThanTheBuffer() throws {
        let big = String(repeating: "0123456789,\"\n\r\né", count: 100)  // 1 800 bytes of awkward content
        let quoted = "\"" + big.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        let plain = String(repeating: "x", count: 1000)
        let text = "head," + quoted + ",tail\r\n" + plain + "," + plain + "\n"
        for size in bufferSizes {
            XCTAssertEqual(try records(text, bufferSize: size), [["head", big, "tail"], [plain, plain]], "bufferSize \(size)")
        }
    }

    /// Shift the tricky sequences one byte at a time across the 64-byte refill boundary.
    func testEverySequenceSplitAcrossRefills() throws {
        for padding in 0..<140 {
            let pad = String(repeating: "p", count: padding)
            let cases: [(String, [[String]])] = [
                // A doubled quote ("") split between two reads.
                ("\"" + pad + "\"\"y\",z\n", [[pad + "\"y", "z"]]),
                // The closing quote as the last byte of a read.
                ("\"" + pad + "\",z\n", [[pad, "z"]]),
                // CR | LF split between two reads, as a line end and inside quotes.
                (pad + "\r\nnext\r\n", [[pad], ["next"]]),
                ("\"" + pad + "\r\nq\"\r\nnext\r\n", [[pad + "\r\nq"], ["next"]]),
                // A multi-byte character split between two reads.
                (pad + "é日🎉,x\n", [[pad + "é日🎉", "x"]]),
                // A comma as the last or first byte of a read.
                (pad + ",,\n", [[pad, "", ""]]),
            ]
            for (text, expected) in cases {
                XCTAssertEqual(try records(text, bufferSize: 64), expected, "padding \(padding): \(text.debugDescription)")
            }
            // The same with a BOM in front, which shifts everything by three bytes.
            XCTAssertEqual(try records([0xEF, 0xBB, 0xBF] + Array((pad + "\r\nz\r\n").utf8), bufferSize: 64), [[pad], ["z"]], "BOM, padding \(padding)")
        }
    }

    func testLineIsWhereEachRecordStarts() throws {
        let text = "id,note\n1,\"two\nlines\"\r\n\n2,\"three\r\nlines\r\nhere\"\n3,last"
        let path = try directory.write("lines.csv", text)
        for size in bufferSizes {
            let result = try readAll(path, bufferSize: size)
            XCTAssertEqual(result.records, [["id", "note"], ["1", "two\nlines"], [""], ["2", "three\r\nlines\r\nhere"], ["3", "last"]])
            XCTAssertEqual(result.lines, [1, 2, 4, 5, 8], "bufferSize \(size)")
        }
    }

    func testUnclosedQuoteNamesTheFileAndLine() throws {
        let path = try directory.write("broken.csv", "id,note\n1,ok\n2,\"never\nclosed\n3,x\n")
        for size in bufferSizes {
            let reader = try CSVReader(path: path, bufferSize: size)
            XCTAssertEqual(try reader.next(), ["id", "note"])
            XCTAssertEqual(try reader.next(), ["1", "ok"])
            XCTAssertThrowsError(try reader.next()) { error in
                let message = (error as? CSVReader.Failure)?.description ?? ""
                XCTAssertTrue(message.hasPrefix("\(path):3: "), message)
                XCTAssertTrue(message.contains("not closed"), message)
            }
        }
    }

    func testMissingFileIsAnError() {
        let path = directory.file("missing.csv")
        XCTAssertThrowsError(try CSVReader(path: path)) { error in
            let message = (error as? CSVReader.Failure)?.description ?? ""
            XCTAssertTrue(message.contains("cannot open \(path)"), message)
        }
    }

    // MARK: - Round trip through CSVWriter

    func testRoundTripOfRandomRows() throws {
        var random = SeededGenerator(seed: 42)
        let pieces = ["a", "Z", "0", " ", ",", "\"", "\"\"", "\n", "\r\n", "\r", "é", "日本", "🎉", "\u{FEFF}", "x y", "\t"]
        var rows: [[String]] = []
        for _ in 0..<500 {
            let width = Int.random(in: 1...6, using: &random)
            rows.append((0..<width).map { _ in
                (0..<Int.random(in: 0...8, using: &random)).map { _ in pieces.randomElement(using: &random)! }.joined()
            })
        }
        rows.append([""])  // a single empty field survives as a blank line
        rows.append(["last", "row"])

        let path = directory.file("out.csv")
        let writer = try CSVWriter(path: path)
        for row in rows { try writer.write(row) }
        XCTAssertEqual(writer.rows, rows.count)
        XCTAssertFalse(FileManager.default.fileExists(atPath: path), "nothing at the path before commit()")
        try writer.commit()
        XCTAssertTrue(FileManager.default.fileExists(atPath: path))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory.path), ["out.csv"], "no temporary file left")

        for size in [64, 1 << 20] {
            XCTAssertEqual(try readAll(path, bufferSize: size).records, rows, "bufferSize \(size)")
        }
    }

    func testWriterQuotesOnlyWhenNeeded() throws {
        let path = directory.file("quoting.csv")
        let writer = try CSVWriter(path: path)
        try writer.write(["plain", "with,comma", "say \"hi\"", "two\nlines", "cr\r", " spaced ", ""])
        try writer.commit()
        let text = try String(contentsOfFile: path, encoding: .utf8)
        XCTAssertEqual(text, "plain,\"with,comma\",\"say \"\"hi\"\"\",\"two\nlines\",\"cr\r\", spaced ,\n")
    }

    func testWriterWithoutCommitLeavesNothing() throws {
        let path = directory.file("abandoned.csv")
        do {
            let writer = try CSVWriter(path: path)
            try writer.write(["a", "b"])
            XCTAssertFalse(FileManager.default.fileExists(atPath: path))
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: path))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory.path), [], "the temporary file is removed")
    }

    func testLargeOutputIsFlushedWhole() throws {
        let path = directory.file("large.csv")
        let writer = try CSVWriter(path: path)
        let row = [String(repeating: "v", count: 300), "q\"uote", "n\nl"]
        for _ in 0..<1000 { try writer.write(row) }  // several 64 KiB flushes
        try writer.commit()
        let read = try readAll(path, bufferSize: 64).records
        XCTAssertEqual(read.count, 1000)
        XCTAssertTrue(read.allSatisfy { $0 == row })
    }

    /// A quote left open early in a big file (a rates file, a rules-suggest sample, the dedupe pass) must not
    /// read the whole file into memory: past the record limit it is an error naming the file and line.
    func testARecordLongerThanTheLimitIsAnErrorNotUnboundedMemory() throws {
        let rows = String(repeating: "x,y\n", count: 300_000)  // 1.2 MB
        let path = try directory.write("open.csv", "a,b\n1,\"never closed\n" + rows)
        for size in [64, 1 << 16] {
            let reader = try CSVReader(path: path, bufferSize: size, maxRecordBytes: 1 << 20)
            XCTAssertEqual(try reader.next(), ["a", "b"])
            XCTAssertThrowsError(try reader.next()) { error in
                XCTAssertEqual("\(error)", "\(path):2: a record is longer than 1 MiB (a quote left open?)", "bufferSize \(size)")
            }
        }
        // Just under the limit, quoted or not, a record reads whole.
        let field = String(repeating: "z", count: (1 << 20) - 8)
        let fine = try directory.write("long.csv", "a,b\n\"\(field)\",1\n\(field),2\n")
        let reader = try CSVReader(path: fine, bufferSize: 64, maxRecordBytes: 1 << 20)
        XCTAssertEqual(try reader.next(), ["a", "b"])
        XCTAssertEqual(try reader.next(), [field, "1"])
        XCTAssertEqual(try reader.next(), [field, "2"])
        XCTAssertNil(try reader.next())
    }
}
