import Foundation
import XCTest

/// Where the lake is: `--lake`, then ORCHESTRATOR_LAKE, then `lake:` in the configuration, then HOME/lake; the
/// tasks get it through their environment.
final class LakeSettingTests: XCTestCase {
    func writeEchoDag(_ h: Harness) throws {
        try h.writeDag("where", """
            dag_id: where
            schedule: "@daily"
            start_date: 2024-01-01
            catchup: false
            tasks:
              - { id: show, command: 'echo "lake=$ORCHESTRATOR_LAKE"' }
            """)
    }

    func lakeSeen(_ h: Harness) throws -> String {
        let log = try h.run(["logs", "where", "show", "--date", "2024-01-01"]).stdout
        return log.split(separator: "\n").first { $0.hasPrefix("lake=") }.map { String($0.dropFirst(5)) } ?? "none in: \(log)"
    }

    func testTheConfigurationFlagAndEnvironmentPickTheLakeTasksSee() throws {
        let h = try Harness()
        try writeEchoDag(h)
        try "lake: s3://from-the-file/prod\n".write(toFile: h.path("orchestrator.yaml"), atomically: true, encoding: .utf8)
        h.extraEnvironment["ORCHESTRATOR_CONFIG"] = h.path("orchestrator.yaml")
        let check = try h.run(["config", "check"])
        XCTAssertTrue(check.stdout.contains("lake          s3://from-the-file/prod  (\(h.path("orchestrator.yaml")):1)"), check.stdout)

        let fromFile = try h.run(["backfill", "where", "--start", "2024-01-01", "--end", "2024-01-01"])
        XCTAssertEqual(fromFile.status, 0, fromFile.stderr)
        XCTAssertEqual(try lakeSeen(h), "s3://from-the-file/prod")

        let flagged = try h.run(["backfill", "where", "--start", "2024-01-01", "--end", "2024-01-01", "--reset", "--lake", "relative/lake"])
        XCTAssertEqual(flagged.status, 0, flagged.stderr)
        XCTAssertEqual(try lakeSeen(h), FileManager.default.currentDirectoryPath + "/relative/lake", "a relative folder is the command's")

        h.extraEnvironment["ORCHESTRATOR_LAKE"] = "file:///srv/lake"
        let fromEnvironment = try h.run(["backfill", "where", "--start", "2024-01-01", "--end", "2024-01-01", "--reset"])
        XCTAssertEqual(fromEnvironment.status, 0, fromEnvironment.stderr)
        XCTAssertEqual(try lakeSeen(h), "file:///srv/lake", "the environment wins over the file")

        h.extraEnvironment["ORCHESTRATOR_CONFIG"] = "none"
        h.extraEnvironment["ORCHESTRATOR_LAKE"] = nil
        let byDefault = try h.run(["backfill", "where", "--start", "2024-01-01", "--end", "2024-01-01", "--reset"])
        XCTAssertEqual(byDefault.status, 0, byDefault.stderr)
        XCTAssertEqual(try lakeSeen(h), h.home.appendingPathComponent("lake").path)
    }

    func testLakeGcOnALocalLakeRemovesOnlyStaleStaging() throws {
        let h = try Harness()
        let staging = h.home.appendingPathComponent("lake/.staging")
        for name in ["old", "new"] {
            try FileManager.default.createDirectory(at: staging.appendingPathComponent(name), withIntermediateDirectories: true)
        }
        try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(-7200)], ofItemAtPath: staging.appendingPathComponent("old").path)
        let gc = try h.run(["lake", "gc"])
        XCTAssertEqual(gc.status, 0, gc.stderr)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: staging.path), ["new"])
        XCTAssertTrue(gc.stdout.contains("1 stale item removed"), gc.stdout)
        let bad = try h.run(["lake", "gc", "--lake", "ftp://user:pw1234567@host/x"])
        XCTAssertEqual(bad.status, 1)
        XCTAssertFalse(bad.stderr.contains("pw1234567"), bad.stderr)
        XCTAssertTrue(bad.stderr.contains("lake gc: lake URL"), bad.stderr)
    }
}
