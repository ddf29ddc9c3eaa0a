import Foundation
import Workflow

/// One input: the text of a DAG file. Every outcome but a crash, a hang or a leak is fine: valid DAGs and
/// load errors alike. A loaded DAG is also walked the way the scheduler and the pages use it.
func fuzzDagParser(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data else { return 0 }
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    do {
        let dag = try DagParser.parse(text: text, file: "fuzz.yaml")
        var latest: Date?
        for _ in 0..<3 {
            guard let next = dag.nextScheduledRun(latestExisting: latest) else { break }
            _ = DateParsing.iso(next.logicalDate, in: dag.timetable.timeZone)
            latest = next.logicalDate
        }
        for task in dag.tasks {
            for tryNumber in [1, 2, task.retry.maxTries] { _ = task.retry.delay(afterTry: tryNumber) }
        }
        _ = dag.params.mapValues(\.jsonText)
    } catch {
        _ = error.description
    }
    // The smaller parsers, on the same bytes.
    _ = DateParsing.parse(text, in: TimeZone(identifier: "Europe/Paris") ?? .current)
    _ = DurationParser.seconds(text)
    _ = try? CronExpression(parsing: text)
    return 0
}
