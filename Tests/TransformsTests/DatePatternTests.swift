import Foundation
@testable import Transforms
import XCTest

final class DatePatternTests: XCTestCase {
    private func pattern(_ text: String) -> DatePattern {
        do { return try DatePattern(text) } catch { XCTFail("\(text): \(error)"); fatalError() }
    }

    private let utc = TimeZone(identifier: "UTC")!

    func testBuiltInPatternsParse() throws {
        XCTAssertEqual(try DatePattern("%Y-%m-%d"), DatePattern.isoDate)
        XCTAssertEqual(DatePattern.isoDate.pieces, [.year, .literal(0x2D), .month, .literal(0x2D), .day])
        XCTAssertEqual(DatePattern.isoTimestampWithZone.pieces.last, .zone)
        XCTAssertEqual(DatePattern.isoTimestamp.text, "%Y-%m-%dT%H:%M:%S")
    }

    func testUnsupportedFieldsAreRejected() {
        XCTAssertThrowsError(try DatePattern("%Y-%b-%d")) { error in
            XCTAssertEqual((error as? TransformError)?.description,
                           "format '%Y-%b-%d': %b is not supported (use %Y %m %d %H %M %S %z)")
        }
        XCTAssertThrowsError(try DatePattern("%Y-%m-%")) { error in
            XCTAssertEqual((error as? TransformError)?.description, "format '%Y-%m-%' ends with %")
        }
    }

    func testDateFields() throws {
        let fields = try XCTUnwrap(pattern("%Y-%m-%d").match("2024-01-31"))
        XCTAssertEqual([fields.year, fields.month, fields.day, fields.hour, fields.minute, fields.second], [2024, 1, 31, 0, 0, 0])
        XCTAssertNil(fields.offset)
        XCTAssertEqual(fields.isoDate, "2024-01-31")

        let european = try XCTUnwrap(pattern("%d/%m/%Y").match("05/03/2024"))
        XCTAssertEqual([european.year, european.month, european.day], [2024, 3, 5])
        XCTAssertEqual(european.isoDate, "2024-03-05")
        // One-digit day and month are accepted.
        XCTAssertEqual(pattern("%d/%m/%Y").match("5/3/2024")?.isoDate, "2024-03-05")
    }

    func testTimeFields() throws {
        let fields = try XCTUnwrap(pattern("%d/%m/%Y %H:%M").match("31/12/2023 23:59"))
        XCTAssertEqual([fields.year, fields.month, fields.day, fields.hour, fields.minute, fields.second], [2023, 12, 31, 23, 59, 0])

        let seconds = try XCTUnwrap(DatePattern.isoTimestamp.match("2024-06-01T08:09:10"))
        XCTAssertEqual([seconds.hour, seconds.minute, seconds.second], [8, 9, 10])
        XCTAssertNil(seconds.offset)
    }

    func testFractionalSecondsAreDropped() throws {
        let fields = try XCTUnwrap(DatePattern.isoTimestamp.match("2024-06-01T08:09:10.123456"))
        XCTAssertEqual(fields.second, 10)
        XCTAssertEqual(DatePattern.isoTimestamp.match("2024-06-01T08:09:10.5")?.second, 10)
        XCTAssertEqual(DatePattern.isoTimestamp.match("2024-06-01T08:09:10.123456789")?.second, 10)
        XCTAssertNil(DatePattern.isoTimestamp.match("2024-06-01T08:09:10.1234567890"), "at most nine fraction digits")
        XCTAssertNil(DatePattern.isoTimestamp.match("2024-06-01T08:09:10."), "a dot needs digits")
        XCTAssertEqual(DatePattern.isoTimestampWithZone.match("2024-06-01T08:09:10.250Z")?.offset, 0)
    }

    func testZones() throws {
        let zoned = DatePattern.isoTimestampWithZone
        XCTAssertEqual(zoned.match("2024-01-31T06:00:00Z")?.offset, 0)
        XCTAssertEqual(zoned.match("2024-01-31T06:00:00z")?.offset, 0)
        XCTAssertEqual(zoned.match("2024-01-31T08:00:00+02:00")?.offset, 7200)
        XCTAssertEqual(zoned.match("2024-01-31T08:00:00+0200")?.offset, 7200)
        XCTAssertEqual(zoned.match("2024-01-31T00:30:00-0530")?.offset, -19_800)
        XCTAssertEqual(zoned.match("2024-01-31T00:30:00-05:30")?.offset, -19_800)
        XCTAssertEqual(zoned.match("2024-01-31T00:30:00+05")?.offset, 18_000)
        XCTAssertNil(zoned.match("2024-01-31T06:00:00"), "the zone is required by %z")
        XCTAssertNil(zoned.match("2024-01-31T06:00:00 02:00"))
        XCTAssertNil(zoned.match("2024-01-31T06:00:00UTC"))

        let fields = try XCTUnwrap(zoned.match("2024-01-31T08:00:00+02:00"))
        XCTAssertEqual(DateFields.isoUTC(epochSeconds: fields.epochSeconds(zone: utc)), "2024-01-31T06:00:00Z")
        // An explicit offset wins over the column's zone.
        XCTAssertEqual(DateFields.isoUTC(epochSeconds: fields.epochSeconds(zone: TimeZone(identifier: "Asia/Tokyo")!)), "2024-01-31T06:00:00Z")
        let india = try XCTUnwrap(zoned.match("2024-01-31T00:30:00-0530"))
        XCTAssertEqual(DateFields.isoUTC(epochSeconds: india.epochSeconds(zone: utc)), "2024-01-31T06:00:00Z")
    }

    func testPercentLiteral() throws {
        let fields = try XCTUnwrap(pattern("%Y%%%m").match("2024%07"))
        XCTAssertEqual([fields.year, fields.month], [2024, 7])
        XCTAssertNil(pattern("%Y%%%m").match("2024-07"))
    }

    func testCalendarValidation() {
        let date = DatePattern.isoDate
        XCTAssertNotNil(date.match("2024-02-29"), "2024 is a leap year")
        XCTAssertNil(date.match("2023-02-29"), "2023 is not")
        XCTAssertNil(date.match("2024-02-30"))
        XCTAssertNotNil(date.match("2000-02-29"), "divisible by 400")
        XCTAssertNil(date.match("1900-02-29"), "divisible by 100 only")
        XCTAssertNil(date.match("2024-04-31"))
        XCTAssertNotNil(date.match("2024-12-31"))
        XCTAssertNil(date.match("2024-13-01"))
        XCTAssertNil(date.match("2024-00-10"))
        XCTAssertNil(date.match("2024-01-00"))
        XCTAssertNil(date.match("0999-01-01"), "years have four digits from 1000")
        XCTAssertNil(DatePattern.isoTimestamp.match("2024-01-01T24:00:00"))
        XCTAssertNil(DatePattern.isoTimestamp.match("2024-01-01T23:60:00"))
        XCTAssertNotNil(DatePattern.isoTimestamp.match("2024-01-01T23:59:60"), "a leap second")
        XCTAssertNil(DatePattern.isoTimestamp.match("2024-01-01T23:59:61"))
    }

    func testRejectsTrailingGarbageAndMismatches() {
        let date = DatePattern.isoDate
        XCTAssertNil(date.match("2024-01-31x"))
        XCTAssertNil(date.match("2024-01-31 "))
        XCTAssertNil(date.match("2024-01-31T00:00:00"))
        XCTAssertNil(date.match("2024-01-311"))
        XCTAssertNil(date.match(" 2024-01-31"))
        XCTAssertNil(date.match("2024/01/31"))
        XCTAssertNil(date.match("20240131"))
        XCTAssertNil(date.match("2024-01"))
        XCTAssertNil(date.match(""))
        XCTAssertNil(date.match("2024-ab-01"))
        XCTAssertNil(DatePattern.isoTimestampWithZone.match("2024-01-31T06:00:00Zjunk"))
        XCTAssertNil(DatePattern.isoTimestampWithZone.match("2024-01-31T06:00:00+02:00:00"))
    }

    func testIsoUTC() {
        XCTAssertEqual(DateFields.isoUTC(epochSeconds: 0), "1970-01-01T00:00:00Z")
        XCTAssertEqual(DateFields.isoUTC(epochSeconds: 1_700_000_000), "2023-11-14T22:13:20Z")
        XCTAssertEqual(DateFields.isoUTC(epochSeconds: 951_782_400), "2000-02-29T00:00:00Z")
        XCTAssertEqual(DateFields.isoUTC(epochSeconds: -1), "1969-12-31T23:59:59Z")
        XCTAssertEqual(DateFields.isoUTC(epochSeconds: -86_400), "1969-12-31T00:00:00Z")
        XCTAssertEqual(DateFields.isoUTC(epochSeconds: -86_401), "1969-12-30T23:59:59Z")
        XCTAssertEqual(DateFields.isoUTC(epochSeconds: 4_102_444_799), "2099-12-31T23:59:59Z")
    }

    func testEpochOfNaiveTimestampsInUTC() throws {
        let fields = try XCTUnwrap(DatePattern.isoTimestamp.match("2024-01-31T06:00:00"))
        XCTAssertEqual(fields.epochSeconds(zone: utc), 1_706_680_800)
        XCTAssertEqual(try XCTUnwrap(DatePattern.isoDate.match("1970-01-02")).epochSeconds(zone: utc), 86_400)
    }

    func testCivilDaysAgreeWithFoundation() {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = utc
        for days in stride(from: -140_000, through: 800_000, by: 997) {  // Foundation turns Julian before 1582
            let (year, month, day) = DateFields.civilFromDays(days)
            XCTAssertEqual(DateFields.daysFromCivil(year, month, day), days)
            let components = calendar.dateComponents([.year, .month, .day], from: Date(timeIntervalSince1970: Double(days) * 86_400))
            XCTAssertEqual([components.year, components.month, components.day], [year, month, day], "day \(days)")
        }
    }

    private func utcText(_ text: String, zone: String, pattern: DatePattern = DatePattern.isoTimestamp) throws -> String {
        let fields = try XCTUnwrap(pattern.match(text), text)
        return DateFields.isoUTC(epochSeconds: fields.epochSeconds(zone: try XCTUnwrap(TimeZone(identifier: zone))))
    }

    func testNaiveTimestampsInEuropeParis() throws {
        // Winter: UTC+1. Summer: UTC+2.
        XCTAssertEqual(try utcText("2024-01-15T12:00:00", zone: "Europe/Paris"), "2024-01-15T11:00:00Z")
        XCTAssertEqual(try utcText("2024-07-15T12:00:00", zone: "Europe/Paris"), "2024-07-15T10:00:00Z")
        XCTAssertEqual(try utcText("2024-01-01T00:30:00", zone: "Europe/Paris"), "2023-12-31T23:30:00Z")
        XCTAssertEqual(try utcText("15/07/2024 01:00", zone: "Europe/Paris", pattern: pattern("%d/%m/%Y %H:%M")), "2024-07-14T23:00:00Z")
        // Around the switches (2024-03-31 02:00 → 03:00, 2024-10-27 03:00 → 02:00).
        XCTAssertEqual(try utcText("2024-03-31T01:30:00", zone: "Europe/Paris"), "2024-03-31T00:30:00Z")
        XCTAssertEqual(try utcText("2024-03-31T03:30:00", zone: "Europe/Paris"), "2024-03-31T01:30:00Z")
        XCTAssertEqual(try utcText("2024-10-27T01:30:00", zone: "Europe/Paris"), "2024-10-26T23:30:00Z")
        XCTAssertEqual(try utcText("2024-10-27T03:30:00", zone: "Europe/Paris"), "2024-10-27T02:30:00Z")
    }

    func testNaiveTimestampsWestOfUTC() throws {
        XCTAssertEqual(try utcText("2024-01-15T12:00:00", zone: "America/New_York"), "2024-01-15T17:00:00Z")
        XCTAssertEqual(try utcText("2024-07-15T12:00:00", zone: "America/New_York"), "2024-07-15T16:00:00Z")
        XCTAssertEqual(try utcText("2024-03-10T01:30:00", zone: "America/New_York"), "2024-03-10T06:30:00Z")
        XCTAssertEqual(try utcText("2024-03-10T03:30:00", zone: "America/New_York"), "2024-03-10T07:30:00Z")
        XCTAssertEqual(try utcText("2024-07-15T12:00:00", zone: "Asia/Kolkata"), "2024-07-15T06:30:00Z")
    }
}
