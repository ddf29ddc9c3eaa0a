import Foundation
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// Files an attacker or a typo can produce: numbers that overflow, alias bombs, dates outside years 1–9999.
/// Each is refused with file:line:field, fast, in little memory, and never takes the daemon or the other DAGs down.
final class HostileFileTests: XCTestCase {
    /// The alias bomb in `params:`: 9^9 scalars once expanded.
    static let bomb: String = {
        var lines = ["dag_id: bomb", "schedule: null", "start_date: 2024-01-01", "params:", "  a: &a [x, x, x, x, x, x, x, x, x]"]
        let names = ["a", "b", "c", "d", "e", "f", "g", "h", "i"]
        for (previous, name) in zip(names, names.dropFirst()) {
            lines.append("  \(name): &\(name) [" + Array(repeating: "*\(previous)", count: 9).joined(separator: ", ") + "]")
        }
        return (lines + ["tasks: [{ id: a, command: ls }]"]).joined(separator: "\n") + "\n"
    }()

    func testValidateRefusesNumbersThatWouldOverflow() throws {
        let h = try Harness()
        try h.writeDag("numbers", """
            dag_id: numbers
            schedule: "@daily"
            start_date: 2024-01-01
            tasks:
              - id: a
                command: "true"
                retries: 9223372036854775807
                retry_delay: 1e300
            """)
        let result = try h.run(["dags", "validate"])
        XCTAssertEqual(result.status, 1)
        let file = h.dags.appendingPathComponent("numbers.yaml").path
        XCTAssertTrue(result.stdout.contains("\(file):7: tasks[0].retries: 9223372036854775807 is out of range: must be between 0 and 100"), result.stdout)
        XCTAssertTrue(result.stdout.contains("\(file):8: tasks[0].retry_delay: '1e300' is out of range: durations are at most 365 days"), result.stdout)
        // Nothing else is hurt: a trigger of another DAG still works (it used to die of SIGILL).
        try h.writeDag("fine", "dag_id: fine\nschedule: null\nstart_date: 2024-01-01\ntasks: [{ id: a, command: \"true\" }]\n")
        let trigger = try h.run(["trigger", "fine"])
        XCTAssertEqual(trigger.status, 0, trigger.stderr)
    }

    func testAliasBombFailsFastInLittleMemory() throws {
        let h = try Harness()
        try h.writeDag("bomb", Self.bomb)
        let started = Date()
        let (status, output, peakKB) = try Self.spawnMeasured(Harness.orchestrator, ["dags", "validate"], environment: h.environment, root: h.root)
        let file = h.dags.appendingPathComponent("bomb.yaml").path
        XCTAssertEqual(status, 1)
        XCTAssertTrue(output.contains("\(file):10: the YAML expands to more than 100,000 nodes"), output)
        // It used 5–7 GB; the whole CLI needs a few tens of MB.
        XCTAssertLessThan(peakKB, 200 * 1024, "peak RSS \(peakKB) kB")
        // Not a timing assertion: a bound a regression (minutes of expansion) would blow through.
        XCTAssertLessThan(Date().timeIntervalSince(started), 30)
    }

    func testAliasBombInTheConfigurationIsRefused() throws {
        let h = try Harness()
        var lines = ["pools:", "  a: &a [x, x, x, x, x, x, x, x, x]"]
        let names = ["a", "b", "c", "d", "e", "f", "g", "h", "i"]
        for (previous, name) in zip(names, names.dropFirst()) {
            lines.append("  \(name): &\(name) [" + Array(repeating: "*\(previous)", count: 9).joined(separator: ", ") + "]")
        }
        try lines.joined(separator: "\n").write(toFile: h.path("bomb.yaml"), atomically: true, encoding: .utf8)
        let (status, output, peakKB) = try Self.spawnMeasured(Harness.orchestrator, ["config", "check", "--config", h.path("bomb.yaml")],
                                                              environment: h.environment, root: h.root)
        XCTAssertEqual(status, 1)
        XCTAssertTrue(output.contains("bomb.yaml:7: the YAML expands to more than 100,000 nodes"), output)
        XCTAssertLessThan(peakKB, 200 * 1024, "peak RSS \(peakKB) kB")
    }

    func testConfigurationNumbersAreBounded() throws {
        let h = try Harness()
        for (text, expected) in [
            ("home: /tmp/x\nparallelism: 9223372036854775807\n", "cfg.yaml:2: parallelism: '9223372036854775807' is not a whole number between 1 and 10,000"),
            ("grace_period: 1e300\n", "cfg.yaml:1: grace_period: '1e300' is not a duration of at most 24 hours"),
            ("pools:\n  wide: 100001\n", "cfg.yaml:2: pools.wide: '100001' is not a number of slots between 0 and 100,000"),
        ] {
            try text.write(toFile: h.path("cfg.yaml"), atomically: true, encoding: .utf8)
            let result = try h.run(["config", "check", "--config", h.path("cfg.yaml")])
            XCTAssertEqual(result.status, 1, text)
            XCTAssertTrue(result.stderr.contains(expected), result.stderr)
        }
        let pools = try h.run(["pools", "set", "wide", "100001"])
        XCTAssertNotEqual(pools.status, 0)
        XCTAssertTrue(pools.stderr.contains("slots must be between 0 and 100,000"), pools.stderr)
    }

    func testDaemonKeepsSchedulingBesideABombAndStaysSmall() throws {
        let h = try Harness()
        // A DAG from before the Gregorian reform: its runs must be dated without the 10-day Julian shift.
        try h.writeDag("old", """
            dag_id: old
            schedule: "@daily"
            start_date: 1500-03-01
            end_date: 1500-03-02
            tasks: [{ id: a, command: "true" }]
            """)
        try h.writeDag("bomb", Self.bomb)
        try h.startDaemon()
        defer { h.stopDaemon() }
        try h.waitFor("the 1500 runs to succeed") { try h.runStates(dag: "old") == ["success", "success"] }
        let runIds = try h.runs(dag: "old").compactMap { $0["run_id"] as? String }.sorted()
        XCTAssertEqual(runIds, ["scheduled__1500-03-01T00:00:00Z", "scheduled__1500-03-02T00:00:00Z"])
        XCTAssertTrue(h.daemonLogText.contains("the YAML expands to more than 100,000 nodes"), h.daemonLogText)

        // A second bomb arriving while it runs (a reload), then a trigger of the good DAG.
        try h.writeDag("bomb2", Self.bomb.replacingOccurrences(of: "dag_id: bomb", with: "dag_id: bomb_two"))
        try h.waitFor("the reload to report the second bomb") { h.daemonLogText.contains("bomb2.yaml") }
        let trigger = try h.run(["trigger", "old", "--date", "1500-03-05"])
        XCTAssertEqual(trigger.status, 0, trigger.stderr)
        XCTAssertTrue(trigger.stdout.contains("manual__1500-03-05T00:00:00Z"), trigger.stdout)
        try h.waitFor("the triggered run to succeed") { try h.runStates(dag: "old").filter { $0 == "success" }.count == 3 }

        let pid = try XCTUnwrap(h.daemon?.processIdentifier)
        let peakKB = try XCTUnwrap(Self.statusField("VmHWM", pid: pid))
        XCTAssertLessThan(peakKB, 100 * 1024, "daemon peak RSS \(peakKB) kB")
        XCTAssertTrue(h.daemon?.isRunning ?? false)
    }

    func testCommandLineDatesOutsideYearsOneToNineThousandNineHundredNinetyNine() throws {
        let h = try Harness()
        try h.writeDag("daily", "dag_id: daily\nschedule: \"@daily\"\nstart_date: 2024-01-01\ncatchup: false\ntasks: [{ id: a, command: \"true\" }]\n")
        for (arguments, expected) in [
            (["trigger", "daily", "--date", "0000-12-31"], "--date '0000-12-31' is outside years 1–9999"),
            (["trigger", "daily", "--date", "10000-01-01"], "--date '10000-01-01' is outside years 1–9999"),
            (["test", "daily", "--date", "0001-01-01T00:00:00+01:00"], "--date '0001-01-01T00:00:00+01:00' is outside years 1–9999"),
            (["backfill", "daily", "--start", "0000-01-01", "--end", "2024-01-02"], "--start '0000-01-01' is outside years 1–9999"),
            (["backfill", "daily", "--start", "2024-01-01", "--end", "10000-01-01"], "--end '10000-01-01' is outside years 1–9999"),
        ] {
            let result = try h.run(arguments)
            XCTAssertNotEqual(result.status, 0, arguments.joined(separator: " "))
            XCTAssertTrue(result.stderr.contains(expected), "\(arguments): \(result.stderr)")
        }
        XCTAssertEqual(try h.runs(dag: "daily").count, 0)
        let first = try h.run(["trigger", "daily", "--date", "0001-01-01"])
        XCTAssertEqual(first.status, 0, first.stderr)
        XCTAssertTrue(first.stdout.contains("manual__0001-01-01T00:00:00Z"), first.stdout)
        let last = try h.run(["trigger", "daily", "--date", "9999-12-31T23:59:59Z"])
        XCTAssertEqual(last.status, 0, last.stderr)
        XCTAssertTrue(last.stdout.contains("manual__9999-12-31T23:59:59Z"), last.stdout)
    }

    // MARK: - Helpers

    /// Runs a command to completion with its output in a file; returns its exit status, output and peak RSS (kB)
    /// from wait4, which reports that child alone.
    static func spawnMeasured(_ executable: String, _ arguments: [String], environment: [String: String], root: URL) throws -> (Int32, String, Int) {
        let output = root.appendingPathComponent("measured-\(UUID().uuidString).txt").path
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { argv.forEach { free($0) }; envp.forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, executable, &actions, nil, argv, envp)
        guard spawned == 0 else { throw NSError(domain: "spawn", code: Int(spawned)) }
        var status: Int32 = 0
        var usage = rusage()
        while wait4(pid, &status, 0, &usage) < 0 && errno == EINTR {}
        let exitStatus = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        return (exitStatus, (try? String(contentsOfFile: output, encoding: .utf8)) ?? "", Int(usage.ru_maxrss))
    }

    /// A `kB` field of /proc/PID/status (VmHWM is the peak resident set).
    static func statusField(_ name: String, pid: Int32) -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("\(name):") {
            return Int(line.dropFirst(name.count + 1).trimmingCharacters(in: .whitespaces).split(separator: " ").first ?? "")
        }
        return nil
    }
}
