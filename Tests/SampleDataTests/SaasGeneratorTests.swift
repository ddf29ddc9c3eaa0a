import Foundation
@testable import SampleData
import XCTest

final class SaasGeneratorTests: XCTestCase {
    var folder: URL!

    override func setUpWithError() throws {
        folder = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("saas-gen-\(UUID().uuidString.prefix(8))")
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: folder) }

    func generate(_ name: String, start: String, weeks: Int) throws -> String {
        let output = folder.appendingPathComponent(name).path
        let date = try XCTUnwrap(ISO8601DateFormatter().date(from: start + "T12:00:00Z"))
        let sizes = SaasGenerator.Sizes(usersPerWeek: 12, tasksPerWeek: 40, eventsPerWeek: 400)
        try SaasGenerator(output: output, start: date, weeks: weeks, sizes: sizes, dirtiness: 0.1, seed: 3).generate()
        return output
    }

    /// scripts/run writes only missing weeks beside ones already ingested: a week must not depend on the window.
    func testAWeeksDropIsTheSameWhateverTheGenerationWindow() throws {
        let early = try generate("early", start: "2024-02-05", weeks: 3)
        let late = try generate("late", start: "2024-02-14", weeks: 2)  // a Wednesday: its week starts on the 12th
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: late).sorted(), ["2024-02-12", "2024-02-19"])
        for week in ["2024-02-12", "2024-02-19"] {
            for table in ["accounts", "users", "projects", "tasks", "events"] {
                let a = try Data(contentsOf: URL(fileURLWithPath: "\(early)/\(week)/\(table).csv"))
                let b = try Data(contentsOf: URL(fileURLWithPath: "\(late)/\(week)/\(table).csv"))
                XCTAssertGreaterThan(a.count, 100, "\(week)/\(table)")
                XCTAssertTrue(a == b, "\(week)/\(table) differs between the two windows")
            }
        }
    }

    /// Snapshots grow: every user of a week is in the next week's snapshot, unchanged but for its timestamp's form.
    func testSnapshotsKeepEarlierRowsAndEventsStayInTheirWeekOrAfter() throws {
        let output = try generate("grow", start: "2024-02-05", weeks: 2)
        func ids(_ week: String, _ table: String) throws -> [String] {
            try String(contentsOfFile: "\(output)/\(week)/\(table).csv", encoding: .utf8).split(separator: "\n").dropFirst()
                .map { String($0.prefix { $0 != "," }) }
        }
        let first = try ids("2024-02-05", "users"), second = try ids("2024-02-12", "users")
        XCTAssertEqual(Array(second.prefix(first.count)), first)
        XCTAssertGreaterThan(second.count, first.count)
        // Event ids are numbered by week (week 6 of the history), never shared with another week.
        let events = try ids("2024-02-12", "events")
        XCTAssertTrue(events.allSatisfy { $0.hasPrefix("6") && $0.count == 8 }, "\(events.prefix(3))")
    }
}
