@testable import Transforms
import XCTest

final class CSVRecordCounterTests: XCTestCase {
    func testCountsRecordsNotLineBreaksInsideQuotes() {
        var counter = CSVRecordCounter()
        counter.feed(Array("id,text\n1,\"two\nlines\"\n2,x".utf8))
        XCTAssertEqual(counter.records, 3, "header, a record with a quoted line break, a last record without one")
        var split = CSVRecordCounter()
        for byte in Array("a\r\n\"b\n\"\r\n".utf8) { split.feed([byte]) }
        XCTAssertEqual(split.records, 2)
        XCTAssertEqual(CSVRecordCounter().records, 0)
    }
}
