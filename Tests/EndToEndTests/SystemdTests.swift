import Foundation
import XCTest

/// The systemd integration: the shipped unit passes `systemd-analyze verify`, and the daemon speaks the notify
/// protocol (READY=1, STATUS=, WATCHDOG=1, STOPPING=1) on a real datagram socket.
final class SystemdTests: XCTestCase {
    func testTheShippedUnitPassesSystemdAnalyzeVerify() throws {
        let analyzer = "/usr/bin/systemd-analyze"
        guard FileManager.default.isExecutableFile(atPath: analyzer) else {
            if ProcessInfo.processInfo.environment["ORCHESTRATOR_TEST_STRICT"] == "1" { XCTFail("systemd-analyze is missing") }
            throw XCTSkip("systemd-analyze is not installed")
        }
        let h = try Harness()
        // verify checks that ExecStart exists: point it at the binary under test, change nothing else.
        let unit = try String(contentsOf: ShopLakeTests.repository.appendingPathComponent("deploy/orchestrator.service"), encoding: .utf8)
        XCTAssertTrue(unit.contains("Type=notify") && unit.contains("KillMode=mixed") && unit.contains("ProtectSystem=strict"))
        try unit.replacingOccurrences(of: "/usr/local/bin/orchestrator", with: Harness.orchestrator)
            .write(toFile: h.path("orchestrator.service"), atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: analyzer)
        process.arguments = ["verify", h.path("orchestrator.service")]
        process.currentDirectoryURL = h.root
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0, text)
        XCTAssertFalse(text.contains("orchestrator.service:"), "verify reported: \(text)")
    }

    func testDaemonNotifiesReadinessStatusWatchdogAndStopping() throws {
        let h = try Harness()
        let socketPath = h.path("notify.sock")
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        XCTAssertGreaterThanOrEqual(fd, 0)
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: Array(socketPath.utf8) + [0]) }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        XCTAssertEqual(bound, 0)
        var timeout = timeval(tv_sec: 0, tv_usec: 200_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var messages: [String] = []
        func receive(for seconds: Double) {
            let deadline = Date().addingTimeInterval(seconds)
            var buffer = [UInt8](repeating: 0, count: 4096)
            while Date() < deadline {
                let count = recv(fd, &buffer, buffer.count, 0)
                if count > 0 { messages.append(String(decoding: buffer.prefix(count), as: UTF8.self)) }
            }
        }

        try h.writeDag("quiet", """
            dag_id: quiet
            schedule: null
            start_date: 2024-01-01
            tasks:
              - { id: a, command: "true" }
            """)
        h.extraEnvironment["NOTIFY_SOCKET"] = socketPath
        h.extraEnvironment["WATCHDOG_USEC"] = "400000"  // pings every 0.2 s
        try h.startDaemon()
        receive(for: 1.5)
        let ready = try XCTUnwrap(messages.first { $0.contains("READY=1") }, "\(messages)")
        XCTAssertTrue(ready.contains("STATUS=1 DAGs, 0 runs running, 0 tasks running"), ready)
        XCTAssertGreaterThanOrEqual(messages.filter { $0.contains("WATCHDOG=1") }.count, 3, "\(messages)")
        XCTAssertEqual(h.stopDaemon(), 0)
        receive(for: 0.5)
        XCTAssertTrue(messages.contains { $0.contains("STOPPING=1") }, "\(messages)")
    }
}
