import Foundation
import XCTest

/// The lake's S3 keys stay in the daemon: a command task sees none of them (nor does the daemon's
/// /proc/PID/environ), while a transform on the S3 lake still publishes with them.
final class S3LakeCredentialsEndToEndTests: XCTestCase {
    func testACommandTaskGetsNoAWSSecretWhileATransformStillPublishesToTheS3Lake() throws {
        let s3 = try S3LakeBucket()
        let h = try Harness()
        s3.use(in: h)
        h.extraEnvironment["AWS_SESSION_TOKEN"] = "e2e-session-t0ken"
        let input = h.dags.appendingPathComponent("in/2024-01-01")
        try FileManager.default.createDirectory(at: input, withIntermediateDirectories: true)
        try "id,name\n1,a\n2,b\n".write(toFile: input.appendingPathComponent("people.csv").path, atomically: true, encoding: .utf8)
        try h.writeDag("keys", """
            dag_id: keys
            schedule: null
            start_date: 2024-01-01
            tasks:
              - id: extract
                transform: extract.files
                with: { source: crm, files: ["in/{{ ds }}/people.csv"] }
              - id: plain
                command: |
                  env | grep '^AWS_' | sort > "$WORK/plain.env"
                  pid=$(cat "$ORCHESTRATOR_HOME/scheduler.pid")
                  if [ -r /proc/$pid/environ ]; then tr '\\0' '\\n' < /proc/$pid/environ > "$WORK/daemon.environ"; fi
            """)
        try h.startDaemon()
        XCTAssertEqual(try h.run(["trigger", "keys", "--date", "2024-01-01"]).status, 0)
        try h.waitFor("the run to finish", timeout: 120) { ["success", "failed"].contains(try h.runStates(dag: "keys").first ?? "") }
        let states = try h.runStates(dag: "keys")
        let log = try h.run(["logs", "keys", "extract", "--date", "2024-01-01"]).stdout
        XCTAssertEqual(h.stopDaemon(), 0)
        XCTAssertEqual(states, ["success"], log + h.daemonLogText)

        XCTAssertNotNil(try s3.manifests()["bronze/crm/people/ds=2024-01-01"], "the transform published with the daemon's keys")
        let secrets = ["e2e-secret-k3y", "e2e-session-t0ken"]
        let plain = h.lines("plain.env")
        XCTAssertTrue(plain.contains("AWS_ENDPOINT_URL=\(s3.endpoint)"), "the task wrote its environment: \(plain)")
        let keys = plain.filter { ["AWS_ACCESS_KEY_ID=", "AWS_SECRET_ACCESS_KEY=", "AWS_SESSION_TOKEN="].contains(where: $0.hasPrefix) }
        XCTAssertEqual(keys, [], "a command task got the lake's keys")
        for secret in secrets { XCTAssertFalse(plain.joined().contains(secret), "\(secret) in a command task: \(plain)") }
        if getuid() == 0 {
            let environ = h.lines("daemon.environ")
            XCTAssertTrue(environ.contains("ORCHESTRATOR_HOME=\(h.home.path)"), "the task read the daemon's environment: \(environ)")
            for secret in secrets {
                XCTAssertFalse(environ.joined(separator: "\n").contains(secret), "\(secret) in /proc/<daemon>/environ")
            }
            XCTAssertFalse(environ.contains { $0.hasPrefix("AWS_ACCESS_KEY_ID=") }, "\(environ)")
        }
    }
}
