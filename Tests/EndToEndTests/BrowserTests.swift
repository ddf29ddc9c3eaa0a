import Foundation
import XCTest

/// A real browser on the status pages: headless Chromium (Debian's package) loads the home page and a DAG page
/// of a running daemon whose run has finished, failed and running tasks; the rendered DOM must show those
/// states, and screenshots go to `.ci-artifacts/` for a person to look at.
final class BrowserTests: XCTestCase {
    static var chromium: String? {
        let candidates = [ProcessInfo.processInfo.environment["CHROMIUM"], "/usr/bin/chromium", "/usr/bin/chromium-browser"]
        return candidates.compactMap { $0 }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    static var artifacts: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent(".ci-artifacts")
    }

    /// Runs headless Chromium with `arguments` and returns what it printed on stdout.
    func chromium(_ binary: String, _ arguments: [String], profile: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        // Root in a container has no user namespace for Chromium's sandbox; the pages are our own.
        process.arguments = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                             "--user-data-dir=\(profile)", "--window-size=1280,900", "--virtual-time-budget=2000"] + arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        let deadline = Date().addingTimeInterval(90)
        while process.isRunning, Date() < deadline { usleep(50_000) }
        if process.isRunning { process.terminate() }
        return String(decoding: data, as: UTF8.self)
    }

    func testHeadlessChromiumShowsTaskStates() throws {
        guard let binary = Self.chromium else {
            if ProcessInfo.processInfo.environment["ORCHESTRATOR_TEST_STRICT"] == "1" { XCTFail("chromium is missing (scripts/test installs it)") }
            throw XCTSkip("chromium is not installed")
        }
        let h = try Harness()
        h.extraEnvironment["ORCHESTRATOR_GRACE_PERIOD"] = "1s"
        try h.writeDag("mixed", """
            dag_id: mixed
            description: A run with one task of each outcome
            schedule: null
            start_date: 2024-01-01
            tasks:
              - { id: finished, command: "true" }
              - { id: broken, command: "exit 1" }
              - { id: long_running, command: "sleep 120" }
              - { id: after_all, depends_on: [finished, broken, long_running], trigger_rule: all_done, command: "true" }
            """)
        try h.startDaemon()
        XCTAssertEqual(try h.run(["trigger", "mixed", "--date", "2024-01-01"]).status, 0)
        try h.waitFor("one finished, one failed and one running task") {
            let tasks = try h.tasks(dag: "mixed", date: "2024-01-01")
            return tasks["finished"]?["state"] as? String == "success" && tasks["broken"]?["state"] as? String == "failed"
                && tasks["long_running"]?["state"] as? String == "running"
        }
        let base = try XCTUnwrap(h.webURL)
        let profile = h.path("chromium-profile")

        let home = try chromium(binary, ["--dump-dom", base], profile: profile)
        XCTAssertTrue(home.contains("href=\"/dags/mixed\""), "the DAG is listed: \(home.prefix(2000))")
        XCTAssertTrue(home.contains("data-state=\"running\""), "the running run shows as running")

        let dom = try chromium(binary, ["--dump-dom", base + "dags/mixed"], profile: profile)
        for state in ["success", "failed", "running", "none"] {
            XCTAssertTrue(dom.contains("class=\"cell\"><a href=") && dom.contains("data-state=\"\(state)\""), "grid shows \(state): \(dom.prefix(3000))")
        }
        XCTAssertTrue(dom.contains("data-task=\"long_running\" data-state=\"running\""), "the graph colours the running task")
        XCTAssertTrue(dom.contains("data-task=\"broken\" data-state=\"failed\""), "the graph colours the failed task")
        XCTAssertTrue(dom.contains("http-equiv=\"refresh\""), "a page with a run going refreshes itself")
        XCTAssertFalse(dom.contains("src=\"http") || dom.contains("href=\"http"), "nothing is loaded from elsewhere")

        try FileManager.default.createDirectory(at: Self.artifacts, withIntermediateDirectories: true)
        for (name, url) in [("home.png", base), ("dag-page.png", base + "dags/mixed")] {
            let shot = Self.artifacts.appendingPathComponent(name)
            try? FileManager.default.removeItem(at: shot)
            _ = try chromium(binary, ["--screenshot=\(shot.path)", url], profile: profile)
            let data = try Data(contentsOf: shot)
            XCTAssertGreaterThan(data.count, 2_000, "\(name) has content")
            XCTAssertEqual(Array(data.prefix(4)), [0x89, 0x50, 0x4E, 0x47], "\(name) is a PNG")
        }
        XCTAssertEqual(h.stopDaemon(), 0)
    }
}
