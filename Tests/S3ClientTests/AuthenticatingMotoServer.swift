import Foundation
import XCTest

/// A second moto server, started by the test, with authentication enforced (INITIAL_NO_AUTH_ACTION_COUNT: the
/// first 3 requests — creating an IAM user, its access key and its policy — are the only unauthenticated ones).
/// Then moto checks the access key, the SigV4 signature and the IAM policy of every request, as S3 and MinIO do.
final class AuthenticatingMotoServer {
    let endpoint: String
    let accessKeyId: String
    let secretAccessKey: String
    /// The user's policy allows s3:* except on this bucket.
    static let deniedBucket = "denied-bucket"
    private let process: Process
    private let directory: TemporaryDirectory

    init() throws {
        guard (try? runTool("/usr/bin/env", ["python3", "-c", "import moto.server, boto3; print('ok')"]))?.hasPrefix("ok") == true else {
            if ProcessInfo.processInfo.environment["ORCHESTRATOR_TEST_STRICT"] == "1" { XCTFail("moto's server is missing (scripts/test installs it)") }
            throw XCTSkip("moto's server is missing: pip install 'moto[server]'")
        }
        directory = try TemporaryDirectory()
        // A free port can be taken by another test between the probe and moto's bind: then moto exits at once, and
        // the server starts again on another port (the wait also sees that nothing else answers on it).
        var started: (process: Process, endpoint: String)?
        for _ in 0..<4 where started == nil {
            let port = try Int(XCTUnwrap(runTool("/usr/bin/env", ["python3", "-c",
                "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])"]).split(separator: "\n").first))!
            let server = Process()
            server.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            server.arguments = ["python3", "-m", "moto.server", "-H", "127.0.0.1", "-p", String(port)]
            var environment = ProcessInfo.processInfo.environment
            environment["INITIAL_NO_AUTH_ACTION_COUNT"] = "3"
            server.environment = environment
            server.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
            server.standardError = FileHandle(forWritingAtPath: "/dev/null")
            try server.run()
            let state = try runTool("/usr/bin/env", ["python3", "-c", AuthenticatingMotoServer.waitScript, String(port), String(server.processIdentifier)])
            if state.hasPrefix("up") {
                started = (server, "http://127.0.0.1:\(port)")
            } else {
                server.terminate()
                server.waitUntilExit()
            }
        }
        guard let started else {
            XCTFail("the authenticating moto server did not start on any of 4 ports")
            throw XCTSkip("no authenticating moto server")
        }
        process = started.process
        endpoint = started.endpoint
        let script = directory.file("user.py")
        try AuthenticatingMotoServer.userScript.write(toFile: script, atomically: true, encoding: .utf8)
        let keys = try runTool("/usr/bin/env", ["python3", script, endpoint, AuthenticatingMotoServer.deniedBucket])
            .split(separator: " ").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        guard keys.count == 2 else {
            process.terminate()
            XCTFail("could not create an IAM user on the authenticating moto server")
            throw XCTSkip("no IAM user")
        }
        accessKeyId = keys[0]
        secretAccessKey = keys[1]
    }

    deinit {
        process.terminate()
        process.waitUntilExit()
    }

    /// Prints `up` once the port takes a TCP connection while moto (the pid) still runs, `gone` if it exited first.
    private static let waitScript = """
import os, socket, sys, time
port, pid = int(sys.argv[1]), int(sys.argv[2])
for _ in range(600):
    try:
        os.kill(pid, 0)
        if open("/proc/%d/stat" % pid).read().split(")")[-1].split()[0] == "Z":
            break
    except OSError:
        break
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        print("up")
        sys.exit(0)
    except OSError:
        time.sleep(0.05)
print("gone")
"""

    // Waits on a TCP connect (an HTTP probe would spend one of the unauthenticated requests).
    private static let userScript = #"""
import boto3, json, socket, sys, time
endpoint, denied = sys.argv[1], sys.argv[2]
host, port = endpoint.split("//")[1].split(":")
for _ in range(200):
    try:
        socket.create_connection((host, int(port)), timeout=1).close()
        break
    except OSError:
        time.sleep(0.1)
iam = boto3.client("iam", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="bootstrap", aws_secret_access_key="bootstrap")
iam.create_user(UserName="lake")
key = iam.create_access_key(UserName="lake")["AccessKey"]
iam.put_user_policy(UserName="lake", PolicyName="lake", PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
    {"Effect": "Deny", "Action": "s3:*", "Resource": ["arn:aws:s3:::%s" % denied, "arn:aws:s3:::%s/*" % denied]}]}))
print(key["AccessKeyId"], key["SecretAccessKey"])
"""#
}
