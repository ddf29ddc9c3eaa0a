import Foundation
import XCTest

/// A moto server of the test's own with authentication enforced (the minimum of S3ClientTests'
/// AuthenticatingMotoServer, which lives in another test target): the first 3 requests — an IAM user, its access
/// key and its policy — are the only unauthenticated ones; then moto checks the key, the SigV4 signature and the
/// policy of every request. The policy allows s3:* except on `deniedBucket`.
///
/// moto 5.2 checks signatures over the path as werkzeug decoded it, so any key with "=" in it — every lake
/// partition, `ds=…` — fails as SignatureDoesNotMatch whatever the credentials (boto3's too). The server runs
/// under a small wrapper that encodes path and query back the way SigV4 (and S3) does before moto signs them.
final class AuthenticatingMoto {
    let endpoint: String
    let accessKeyId: String
    let secretAccessKey: String
    static let deniedBucket = "denied-bucket"
    private let process: Process

    init(scratch: String) throws {
        guard (try? Self.python(["-c", "import moto.server, boto3; print('ok')"]))?.hasPrefix("ok") == true else {
            if ProcessInfo.processInfo.environment["ORCHESTRATOR_TEST_STRICT"] == "1" { XCTFail("moto's server is missing (scripts/test installs it)") }
            throw XCTSkip("moto's server is missing: pip install 'moto[server]'")
        }
        let free = try Self.python(["-c", "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])"])
        let port = try XCTUnwrap(Int(free.trimmingCharacters(in: .whitespacesAndNewlines)))
        endpoint = "http://127.0.0.1:\(port)"
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        let server = scratch + "/moto-server.py"
        try Self.serverScript.write(toFile: server, atomically: true, encoding: .utf8)
        process.arguments = ["python3", server, "-H", "127.0.0.1", "-p", String(port)]
        process.environment = ProcessInfo.processInfo.environment.merging(["INITIAL_NO_AUTH_ACTION_COUNT": "3"]) { $1 }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let script = scratch + "/moto-user.py"
        try Self.userScript.write(toFile: script, atomically: true, encoding: .utf8)
        let keys = (try? Self.python([script, endpoint, Self.deniedBucket]))?.split(separator: " ")
            .map { $0.trimmingCharacters(in: .whitespacesAndNewlines) } ?? []
        guard keys.count == 2 else {
            process.terminate()
            process.waitUntilExit()
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

    private static func python(_ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3"] + arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: output, as: UTF8.self)
    }

    private static let serverScript = #"""
import sys, urllib.parse
from moto.iam import access_control

def encoded(part, safe):
    return urllib.parse.quote(urllib.parse.unquote(part), safe=safe)

original = access_control.IAMRequestBase._create_aws_request
def create_aws_request(self):
    path, mark, query = self._path.partition("?")
    pairs = [pair.partition("=") for pair in query.split("&")] if query else []
    self._path = encoded(path, "/~") + mark + "&".join(encoded(k, "-_.~") + eq + encoded(v, "-_.~") for k, eq, v in pairs)
    return original(self)
access_control.IAMRequestBase._create_aws_request = create_aws_request

from moto.server import main
main(sys.argv[1:])
"""#

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
