import Foundation
import XCTest

/// `backfill --dry-run` lists the whole plan and writes nothing (issue 16).
final class BackfillDryRunTests: XCTestCase {

    private func plan(_ h: Harness, _ arguments: [String]) throws -> [[String: String]] {
        let result = try h.run(["backfill"] + arguments + ["--dry-run", "--json"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let entries = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: String]]
        return try XCTUnwrap(entries, result.stdout)
    }

    private func writeNewYorkDag(_ h: Harness) throws {
        // The run of 2024-03-10 fails; 02:30 does not exist that day and fires at 03:30 EDT.
        try h.writeDag("ny", """
            dag_id: ny
            schedule: "30 2 * * *"
            timezone: America/New_York
            start_date: 2024-03-01
            catchup: false
            tasks:
              - id: a
                command: test "{{ ds }}" != 2024-03-10
            """)
    }

    func testARangeBeyondTheDateLimitIsRefusedNotCutShort() throws {
        let h = try Harness()
        try h.writeDag("minutely", """
            dag_id: minutely
            schedule: "* * * * *"
            start_date: 2024-01-01
            tasks:
              - { id: a, command: "true" }
            """)
        // 70 days of minutes: 100,801 dates, one more than a backfill covers.
        let refused = try h.run(["backfill", "minutely", "--start", "2024-01-01", "--end", "2024-03-11", "--dry-run"])
        XCTAssertEqual(refused.status, 1, refused.stdout)
        XCTAssertTrue(refused.stderr.contains("holds more than 100000 logical dates"), refused.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: h.home.appendingPathComponent("orchestrator.db").path))
        // Exactly the limit is fine: 100,000 minutes from the start.
        let atLimit = try h.run(["backfill", "minutely", "--start", "2024-01-01", "--end", "2024-03-10T10:39", "--dry-run", "--limit", "1"])
        XCTAssertEqual(atLimit.status, 0, atLimit.stderr)
        XCTAssertTrue(atLimit.stderr.contains("would create 100000 run(s)"), atLimit.stderr)
    }

    func testDryRunInAnEmptyHomeListsEveryDateAndCreatesNothing() throws {
        let h = try Harness()
        try writeNewYorkDag(h)
        let text = try h.run(["backfill", "ny", "--start", "2024-03-09", "--end", "2024-03-11T02:30", "--dry-run"])
        XCTAssertEqual(text.status, 0, text.stderr)
        let lines = text.stdout.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines, [
            "LOGICAL DATE               DATA INTERVAL START        DATA INTERVAL END          ACTION",
            "2024-03-09T02:30:00-05:00  2024-03-09T02:30:00-05:00  2024-03-10T03:30:00-04:00  create",
            "2024-03-10T03:30:00-04:00  2024-03-10T03:30:00-04:00  2024-03-11T02:30:00-04:00  create",
            "2024-03-11T02:30:00-04:00  2024-03-11T02:30:00-04:00  2024-03-12T02:30:00-04:00  create",
        ])
        XCTAssertTrue(text.stderr.contains("would create 3 run(s)"), text.stderr)
        XCTAssertEqual(try plan(h, ["ny", "--start", "2024-03-10", "--end", "2024-03-10T02:30"]), [
            ["logical_date": "2024-03-10T07:30:00Z", "data_interval_start": "2024-03-10T07:30:00Z",
             "data_interval_end": "2024-03-11T06:30:00Z", "action": "create"],
        ])
        XCTAssertFalse(FileManager.default.fileExists(atPath: h.home.path), "a dry run creates nothing in the home")
    }

    func testLongRangesAreCutAtTheLimitAndJSONHasEverything() throws {
        let h = try Harness()
        try writeNewYorkDag(h)
        let short = try h.run(["backfill", "ny", "--start", "2024-01-01", "--end", "2024-12-31", "--dry-run"])
        XCTAssertEqual(short.status, 0, short.stderr)
        let lines = short.stdout.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.count, 1 + 20 + 1, "header, the default 20 dates, the rest counted")
        XCTAssertEqual(lines.last, "… and 345 more (--limit 365 lists them all, --json prints the whole plan)")
        let limited = try h.run(["backfill", "ny", "--start", "2024-01-01", "--end", "2024-12-31", "--dry-run", "--limit", "2"])
        XCTAssertEqual(limited.stdout.split(separator: "\n").map(String.init), [
            "LOGICAL DATE               DATA INTERVAL START        DATA INTERVAL END          ACTION",
            "2024-01-01T02:30:00-05:00  2024-01-01T02:30:00-05:00  2024-01-02T02:30:00-05:00  create",
            "2024-01-02T02:30:00-05:00  2024-01-02T02:30:00-05:00  2024-01-03T02:30:00-05:00  create",
            "… and 363 more (--limit 365 lists them all, --json prints the whole plan)",
        ])
        let all = try plan(h, ["ny", "--start", "2024-01-01", "--end", "2024-12-31"])
        XCTAssertEqual(all.count, 365, "--end 2024-12-31 is local midnight, before that day's 02:30")
        XCTAssertEqual(all.last?["logical_date"], "2024-12-30T07:30:00Z")
        XCTAssertEqual(Set(all.compactMap { $0["action"] }), ["create"])

        let misuse = try h.run(["backfill", "ny", "--start", "2024-01-01", "--end", "2024-01-02", "--json"])
        XCTAssertNotEqual(misuse.status, 0)
        XCTAssertTrue(misuse.stderr.contains("add --dry-run"), misuse.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: h.home.path))
    }

    func testDryRunShowsTheActionForEachExistingRun() throws {
        let h = try Harness()
        try writeNewYorkDag(h)
        let real = try h.run(["backfill", "ny", "--start", "2024-03-09", "--end", "2024-03-11T02:30"])
        XCTAssertNotEqual(real.status, 0, "the run of 2024-03-10 fails")
        let storeFile = h.home.appendingPathComponent("orchestrator.db").path
        func stamp() throws -> [String] {
            try [storeFile, storeFile + "-wal"].filter { FileManager.default.fileExists(atPath: $0) }.map {
                let attributes = try FileManager.default.attributesOfItem(atPath: $0)
                return "\($0) \(attributes[.size] ?? 0) \(attributes[.modificationDate] ?? 0)"
            }
        }
        let before = try stamp()

        let dates = ["2024-03-09T07:30:00Z", "2024-03-10T07:30:00Z", "2024-03-11T06:30:00Z", "2024-03-12T06:30:00Z"]
        let actions = { (extra: [String]) throws -> [String] in
            let entries = try self.plan(h, ["ny", "--start", "2024-03-09", "--end", "2024-03-12T02:30"] + extra)
            XCTAssertEqual(entries.compactMap { $0["logical_date"] }, dates)
            return entries.compactMap { $0["action"] }
        }
        XCTAssertEqual(try actions([]), ["leave", "leave", "leave", "create"])
        XCTAssertEqual(try actions(["--rerun-failed"]), ["leave", "rerun_failed", "leave", "create"])
        XCTAssertEqual(try actions(["--reset"]), ["reset", "reset", "reset", "create"])
        let text = try h.run(["backfill", "ny", "--start", "2024-03-09", "--end", "2024-03-12T02:30", "--dry-run", "--rerun-failed"])
        XCTAssertTrue(text.stdout.contains("2024-03-10T03:30:00-04:00  2024-03-10T03:30:00-04:00  2024-03-11T02:30:00-04:00  re-run failed tasks"),
                      text.stdout)
        XCTAssertTrue(text.stdout.contains("2024-03-09T02:30:00-05:00  2024-03-09T02:30:00-05:00  2024-03-10T03:30:00-04:00  leave as it is"),
                      text.stdout)

        XCTAssertEqual(try stamp(), before, "the dry runs wrote nothing to the store")
        XCTAssertEqual(try h.runs(dag: "ny").count, 3, "the dry runs created nothing")
        XCTAssertEqual(try h.runStates(dag: "ny").sorted(), ["failed", "success", "success"])
    }

    func testEndSaysAPlainDateIsLocalMidnight() throws {
        let help = try Harness().run(["backfill", "--help"])
        let words = help.stdout.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        XCTAssertTrue(words.contains("--end <end> Last logical date (inclusive), in the DAG's time zone (a plain date is local midnight there)."),
                      help.stdout)
        XCTAssertTrue(words.contains("--start <start> First logical date, in the DAG's time zone (a plain date is local midnight there)."),
                      help.stdout)
    }
}
