import XCTest
@testable import Workflow

final class DurationParserTests: XCTestCase {

    func testUnits() {
        XCTAssertEqual(DurationParser.seconds("45s"), 45)
        XCTAssertEqual(DurationParser.seconds("10m"), 600)
        XCTAssertEqual(DurationParser.seconds("2h"), 7200)
        XCTAssertEqual(DurationParser.seconds("1d"), 86_400)
        XCTAssertEqual(DurationParser.seconds("250ms"), 0.25)
        XCTAssertEqual(DurationParser.seconds("0s"), 0)
    }

    func testCombinedUnits() {
        XCTAssertEqual(DurationParser.seconds("1h30m"), 5400)
        XCTAssertEqual(DurationParser.seconds("1d2h3m4s"), 93_784)
        XCTAssertEqual(DurationParser.seconds("1.5h"), 5400)
        XCTAssertEqual(DurationParser.seconds("2m500ms"), 120.5)
    }

    func testPlainSeconds() {
        XCTAssertEqual(DurationParser.seconds("90"), 90)
        XCTAssertEqual(DurationParser.seconds("0"), 0)
        XCTAssertEqual(DurationParser.seconds("2.5"), 2.5)
        XCTAssertEqual(DurationParser.seconds("  30  "), 30)
        XCTAssertEqual(DurationParser.seconds(" 5m "), 300)
    }

    func testRejectsGarbage() {
        for text in ["", "   ", "abc", "5 minutes", "1h 30m", "10x", "m", "s5", "5m3", "-5", "-5s", "1.2.3s", "inf", "nan",
                     "5M", "1w", "h1", "10min"] {
            XCTAssertNil(DurationParser.seconds(text), "'\(text)' should not be a duration")
        }
    }

    func testFormat() {
        XCTAssertEqual(DurationParser.format(45), "45s")
        XCTAssertEqual(DurationParser.format(600), "10m")
        XCTAssertEqual(DurationParser.format(5400), "1h30m")
        XCTAssertEqual(DurationParser.format(90_061), "1d1h1m1s")
        XCTAssertEqual(DurationParser.format(0.25), "250ms")
        XCTAssertEqual(DurationParser.format(0), "0s")
        for seconds in [1.0, 59, 61, 3600, 3661, 86_400, 93_784] {
            XCTAssertEqual(DurationParser.seconds(DurationParser.format(seconds)), seconds, "round trip of \(seconds)")
        }
    }
}
