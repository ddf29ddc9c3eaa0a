import Foundation
import XCTest

/// A password in `--store` sits in /proc/PID/cmdline, which any local user can read: the daemon refuses it before it
/// connects anywhere, other commands warn (and never print it).
final class StorePasswordFlagTests: XCTestCase {
    func testTheDaemonRefusesAPasswordInStoreAndOtherCommandsWarn() throws {
        let h = try Harness()
        for flag in ["postgres://orch:Hunter2Secret@127.0.0.1:1/db", "postgres://orch@127.0.0.1:1/db?password=Hunter2Secret"] {
            let daemon = try h.run(["daemon", "--store", flag], timeout: 30)
            XCTAssertNotEqual(daemon.status, 0)
            XCTAssertTrue(daemon.stderr.contains("a password does not belong in --store"), daemon.stderr)
            XCTAssertTrue(daemon.stderr.contains("ORCHESTRATOR_STORE") && daemon.stderr.contains("PGPASSWORD"), daemon.stderr)
            XCTAssertFalse((daemon.stdout + daemon.stderr).contains("Hunter2Secret"), daemon.stderr)
            // Port 1 answers nobody: the command fails, after its warning.
            let check = try h.run(["db", "check", "--store", flag], timeout: 60)
            XCTAssertTrue(check.stderr.contains("warning: --store holds a password"), check.stderr)
            XCTAssertFalse((check.stdout + check.stderr).contains("Hunter2Secret"), check.stderr)
        }
    }
}
