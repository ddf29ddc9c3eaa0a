import Foundation
@testable import Transforms
import XCTest

/// A quick smoke of scripts/fuzz's CSV target: on every input of the kept corpus, CSVReader and CSVFieldScanner
/// give the same records and the same error, with a small buffer and a large one.
final class CSVFuzzCorpusReplayTests: XCTestCase {
    static let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fuzz/corpus/csv")

    private func readAll(_ path: String, bufferSize: Int) -> (reader: [[String]], readerError: String?, scanner: [[String]], scannerError: String?) {
        var reader: [[String]] = [], scanner: [[String]] = []
        var readerError: String?, scannerError: String?
        do {
            let csv = try CSVReader(path: path, bufferSize: bufferSize)
            while let record = try csv.next() { reader.append(record) }
        } catch { readerError = error.description }
        do {
            let csv = try CSVFieldScanner(path: path, bufferSize: bufferSize)
            while try csv.next() { scanner.append(csv.strings()) }
        } catch { scannerError = error.description }
        return (reader, readerError, scanner, scannerError)
    }

    func testBothReadersAgreeOnTheCorpus() throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: Self.corpus.path).sorted()
        XCTAssertGreaterThanOrEqual(names.count, 9)
        for name in names {
            let path = Self.corpus.appendingPathComponent(name).path
            for size in [64, 1 << 20] {
                let result = readAll(path, bufferSize: size)
                XCTAssertEqual(result.reader, result.scanner, "\(name), buffer \(size)")
                XCTAssertEqual(result.readerError, result.scannerError, "\(name), buffer \(size)")
            }
        }
        // The seeds cover the grammar's corners: an unclosed quote is an error, quotes and CRLF are records.
        XCTAssertNotNil(readAll(Self.corpus.appendingPathComponent("seed-unclosed").path, bufferSize: 64).readerError)
        XCTAssertEqual(readAll(Self.corpus.appendingPathComponent("seed-quotes").path, bufferSize: 64).reader,
                       [["a", "b"], ["x, y", "he said \"hi\""], ["multi\nline", "2"]])
    }
}
