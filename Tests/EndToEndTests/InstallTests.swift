import Foundation
import XCTest

/// scripts/install staged into a folder (--destdir: no users, no systemd), then uninstalled.
final class InstallTests: XCTestCase {
    func run(_ arguments: [String]) throws -> (Int32, String) {
        let process = Process()
        process.executableURL = ShopLakeTests.repository.appendingPathComponent("scripts/install")
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, text)
    }

    func testInstallStagesBinariesUnitConfigAndUninstallRemovesThem() throws {
        let h = try Harness()
        let root = h.path("root")
        let (status, output) = try run(["--destdir", root, "--prefix", "/opt/orch", "--bin-dir", Harness.binFolder.path, "--no-start"])
        XCTAssertEqual(status, 0, output)
        let files = FileManager.default
        XCTAssertTrue(files.isExecutableFile(atPath: "\(root)/opt/orch/bin/orchestrator"))
        XCTAssertTrue(files.isExecutableFile(atPath: "\(root)/opt/orch/bin/orchestrator-worker"))
        XCTAssertTrue(files.isExecutableFile(atPath: "\(root)/opt/orch/bin/orchestrator-worker-postgres"))
        let unit = try String(contentsOfFile: "\(root)/etc/systemd/system/orchestrator.service", encoding: .utf8)
        XCTAssertTrue(unit.contains("ExecStart=/opt/orch/bin/orchestrator daemon"), unit)
        let env = try files.attributesOfItem(atPath: "\(root)/etc/orchestrator/orchestrator.env")
        XCTAssertEqual((env[.posixPermissions] as? NSNumber)?.intValue, 0o600, "the secrets file is private")
        // The example configuration is valid.
        let check = try h.run(["config", "check", "--config", "\(root)/etc/orchestrator/orchestrator.yaml"])
        XCTAssertEqual(check.status, 0, check.stderr)
        // A second install keeps an edited configuration.
        try "parallelism: 3\n".write(toFile: "\(root)/etc/orchestrator/orchestrator.yaml", atomically: true, encoding: .utf8)
        XCTAssertEqual(try run(["--destdir", root, "--prefix", "/opt/orch", "--bin-dir", Harness.binFolder.path, "--no-start"]).0, 0)
        XCTAssertEqual(try String(contentsOfFile: "\(root)/etc/orchestrator/orchestrator.yaml", encoding: .utf8), "parallelism: 3\n")

        let (removed, removeOutput) = try run(["--uninstall", "--destdir", root, "--prefix", "/opt/orch"])
        XCTAssertEqual(removed, 0, removeOutput)
        XCTAssertFalse(files.fileExists(atPath: "\(root)/opt/orch/bin/orchestrator"))
        XCTAssertFalse(files.fileExists(atPath: "\(root)/etc/systemd/system/orchestrator.service"))
        XCTAssertTrue(files.fileExists(atPath: "\(root)/etc/orchestrator/orchestrator.yaml"), "configuration is kept without --purge")
        XCTAssertEqual(try run(["--uninstall", "--purge", "--destdir", root, "--prefix", "/opt/orch"]).0, 0)
        XCTAssertFalse(files.fileExists(atPath: "\(root)/etc/orchestrator"))
    }
}
