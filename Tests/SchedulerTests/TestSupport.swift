import Foundation
import MetadataStore
import Scheduler
import Workflow
import XCTest

/// An instant given in UTC.
func utc(_ y: Int, _ mo: Int, _ d: Int, _ h: Int = 0, _ mi: Int = 0, _ s: Int = 0) -> Date {
    var calendar = Calendar(identifier: .gregorian)
    calendar.timeZone = TimeZone(secondsFromGMT: 0)!
    return calendar.date(from: DateComponents(year: y, month: mo, day: d, hour: h, minute: mi, second: s))!
}

func parseDag(_ text: String, file: String = "/dags/test.yaml") throws -> DAG {
    do {
        return try DagParser.parse(text: text, file: file)
    } catch {
        XCTFail("DAG did not parse: \(error)")
        throw error
    }
}
