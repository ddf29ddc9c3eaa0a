import Foundation
@testable import SampleData
import XCTest

final class IsoTimestampTests: XCTestCase {
    /// Instants before 1970 are negative: the offset pick and the fraction must still be in range.
    func testEveryStyleRendersInstantsBefore1970() {
        // 1969-12-31T23:59:53Z and 1960-05-06T14:03:07Z, computed by hand (-7 s; -304_682_213 s).
        for style in IsoTimestamp.Style.allCases {
            let text = IsoTimestamp.render(-7, style: style)
            XCTAssertTrue(text.contains("1969") || text.contains("1970"), "\(style): \(text)")
        }
        XCTAssertEqual(IsoTimestamp.render(-7, style: .zulu), "1969-12-31T23:59:53Z")
        XCTAssertEqual(IsoTimestamp.render(-304_682_213, style: .zulu), "1960-05-06T14:03:07Z")
        // -7 / 7 rounds down to slot -1, the last offset (+1 h).
        XCTAssertEqual(IsoTimestamp.render(-7, style: .offsetColon), "1970-01-01T00:59:53+01:00")
        // (-7 × 37) mod 1000 = 741.
        XCTAssertEqual(IsoTimestamp.render(-7, style: .fraction), "1969-12-31T23:59:53.741Z")
    }

    func testCivilWritesTheUTCWallTime() {
        XCTAssertEqual(IsoTimestamp.civil(1_714_989_787), "2024-05-06 10:03:07")
        XCTAssertEqual(IsoTimestamp.civil(1_714_989_787, separator: "T"), "2024-05-06T10:03:07")
    }
}
