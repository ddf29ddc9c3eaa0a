import Foundation
@testable import SampleData
import XCTest

/// The mentoring export: a day's snapshot depends on its date alone, and it carries the dirt the issue lists.
final class MentoringGeneratorTests: XCTestCase {
    func folder() throws -> String {
        let path = NSTemporaryDirectory() + "mentoring-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
        return path
    }

    func day(_ text: String) -> Date { Date(timeIntervalSince1970: TimeInterval(ISO8601DateFormatter().date(from: text + "T00:00:00Z")?.timeIntervalSince1970 ?? 0)) }

    func testASnapshotIsTheSameWhateverTheWindow() throws {
        let early = try folder(), late = try folder()
        try MentoringGenerator(output: early, start: day("2024-02-01"), days: 3).generate()
        try MentoringGenerator(output: late, start: day("2024-02-03"), days: 2).generate()
        for table in ["schools", "users", "professional_profiles", "conversations", "appointments"] {
            let a = try Data(contentsOf: URL(fileURLWithPath: "\(early)/2024-02-03/\(table).csv"))
            let b = try Data(contentsOf: URL(fileURLWithPath: "\(late)/2024-02-03/\(table).csv"))
            XCTAssertEqual(a, b, table)
        }
        let before = try String(contentsOfFile: "\(early)/2024-02-02/conversations.csv", encoding: .utf8).split(separator: "\n").count
        let after = try String(contentsOfFile: "\(early)/2024-02-03/conversations.csv", encoding: .utf8).split(separator: "\n").count
        XCTAssertGreaterThanOrEqual(after, before, "a later snapshot holds at least the earlier conversations")
    }

    func testTheSnapshotCarriesTheDirtOfARealExport() throws {
        let out = try folder()
        try MentoringGenerator(output: out, start: day("2024-03-01"), days: 1).generate()
        func rows(_ table: String) throws -> [[String]] {
            try String(contentsOfFile: "\(out)/2024-03-01/\(table).csv", encoding: .utf8).split(separator: "\n").dropFirst()
                .map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        }
        let conversations = try rows("conversations")
        XCTAssertEqual(conversations.count - Set(conversations.map { $0.joined(separator: ",") }).count, 1, "one exact duplicate row")
        XCTAssertTrue(conversations.contains { $0[4].isEmpty }, "some conversations are unanswered")
        XCTAssertTrue(conversations.contains { $0[1].hasPrefix("0") || $0[1].hasPrefix(" ") }, "ids written as text")
        let users = try rows("users")
        let roles = Set(users.map { $0[1] })
        XCTAssertTrue(roles.contains { $0 != $0.lowercased() } && roles.contains { $0 != $0.trimmingCharacters(in: .whitespaces) }, "\(roles)")
        for user in users {
            let isStudent = user[1].trimmingCharacters(in: .whitespaces).lowercased() == "student"
            XCTAssertEqual(user[5].isEmpty, !isStudent, "school_id is set for students only: \(user)")
        }
        let profiles = try rows("professional_profiles")
        let perUser = Dictionary(grouping: profiles) { Int($0[1].trimmingCharacters(in: .whitespaces)) ?? -1 }
        XCTAssertEqual(perUser.values.filter { $0.count == 2 }.count, 1, "one professional has two profiles")
        let statuses = Set(try rows("appointments").map { $0[3] })
        XCTAssertEqual(Set(statuses.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }), ["completed", "cancelled", "no_show"])
        XCTAssertTrue(statuses.contains { $0 != $0.lowercased() }, "\(statuses)")
    }
}
