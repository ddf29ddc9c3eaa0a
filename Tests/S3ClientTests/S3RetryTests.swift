import Foundation
import S3Client
import XCTest

/// What is retried and what is not, over real sockets: a scripted server, a closed port, a silent server.
final class S3RetryTests: XCTestCase {
    private let secret = "retry-secret-9fK2pQ"

    private func client(_ endpoint: String, maxAttempts: Int = 4, requestTimeout: Double = 10, connectTimeout: Double = 2) throws -> S3Client {
        var configuration = S3Configuration(endpoint: endpoint, credentials: S3Credentials(accessKeyId: "AKIDRETRY", secretAccessKey: secret))
        configuration.maxAttempts = maxAttempts
        configuration.retryBaseDelay = 0.02
        configuration.retryMaxDelay = 0.2
        configuration.connectTimeout = connectTimeout
        configuration.requestTimeout = requestTimeout
        return try S3Client(configuration)
    }

    func testSlowDownAndServerErrorsAreRetriedUntilSuccess() throws {
        let server = try ScriptedS3Server(steps: ["503", "500", "reset", "200"])
        let etag = try client(server.endpoint).putObject(bucket: "bkt", key: "k", bytes: [1, 2, 3])
        XCTAssertEqual(etag, "\"0123456789abcdef0123456789abcdef\"")
        XCTAssertEqual(server.requests, Array(repeating: "PUT /bkt/k", count: 4))
    }

    func testConsecutiveRequestsReuseTheConnection() throws {
        let server = try ScriptedS3Server(steps: ["200"])
        let client = try client(server.endpoint)
        for index in 0..<5 { _ = try client.putObject(bucket: "bkt", key: "k\(index)", bytes: [UInt8(index)]) }
        XCTAssertEqual(server.clientPorts.count, 5)
        XCTAssertEqual(Set(server.clientPorts).count, 1, "one connection for five requests: \(server.clientPorts)")
    }

    func testRetriesStopAtMaxAttempts() throws {
        let server = try ScriptedS3Server(steps: ["503"])
        let error = s3Error { _ = try self.client(server.endpoint, maxAttempts: 3).putObject(bucket: "bkt", key: "k", bytes: [1]) }
        XCTAssertEqual(error?.kind, .throttled)
        XCTAssertEqual(error?.code, "SlowDown")
        XCTAssertEqual(error?.message.hasSuffix("(after 3 attempts)"), true, error?.message ?? "")
        XCTAssertEqual(server.requests.count, 3)
    }

    func testConditionalPutRefusedByItsOwnLostFirstAttemptSucceeds() throws {
        // MD5 of [1, 2, 3], as md5sum prints it.
        let own = "5289df737df57326fcdd22597afb1fac"
        let lost = try ScriptedS3Server(steps: ["reset", "412", "head:\(own)"])
        XCTAssertEqual(try client(lost.endpoint).putObject(bucket: "bkt", key: "m", bytes: [1, 2, 3], ifNoneMatch: true), "\"\(own)\"")
        XCTAssertEqual(lost.requests, ["PUT /bkt/m", "PUT /bkt/m", "HEAD /bkt/m"])

        let raced = try ScriptedS3Server(steps: ["reset", "412", "head:0123456789abcdef0123456789abcdef"])
        XCTAssertEqual(s3Error { _ = try self.client(raced.endpoint).putObject(bucket: "bkt", key: "m", bytes: [1, 2, 3], ifNoneMatch: true) }?.kind,
                       .preconditionFailed, "someone else's object: the condition really failed")

        let plain = try ScriptedS3Server(steps: ["412", "head:\(own)"])
        XCTAssertEqual(s3Error { _ = try self.client(plain.endpoint).putObject(bucket: "bkt", key: "m", bytes: [1, 2, 3], ifNoneMatch: true) }?.kind,
                       .preconditionFailed, "refused on the first attempt: nothing of ours can be there")
        XCTAssertEqual(plain.requests, ["PUT /bkt/m"])
    }

    func testBrokenDownloadResumesWhereItStopped() throws {
        let size = 3_000_000
        let server = try ScriptedS3Server(steps: ["partial:\(size):1000000", "partial:\(size):1000000", "ranged:\(size)"])
        let directory = try TemporaryDirectory()
        let target = directory.file("object.bin")
        let info = try client(server.endpoint).getObject(bucket: "bkt", key: "k", toFile: target)
        XCTAssertEqual(info.size, Int64(size))
        XCTAssertEqual(info.etag, "\"feedfacefeedfacefeedfacefeedface\"")
        // The second attempt asked for the rest; the server sent the whole object again (200), and the file
        // started over; the third asked from where that one stopped.
        XCTAssertEqual(server.requests, ["GET /bkt/k", "GET /bkt/k [bytes=1000000-]", "GET /bkt/k [bytes=1000000-]"])
        let expected = Data((0..<size).map { UInt8($0 % 251) })
        XCTAssertTrue(try Data(contentsOf: URL(fileURLWithPath: target)) == expected, "the resumed file differs from the object")
    }

    func testDownloadStartsOverWhenTheObjectChangedBetweenAttempts() throws {
        let size = 2_000_000
        let server = try ScriptedS3Server(steps: ["partial:\(size):500000", "412", "whole:\(size)"])
        let directory = try TemporaryDirectory()
        let target = directory.file("object.bin")
        XCTAssertEqual(try client(server.endpoint).getObject(bucket: "bkt", key: "k", toFile: target).size, Int64(size))
        XCTAssertEqual(server.requests, ["GET /bkt/k", "GET /bkt/k [bytes=500000-]", "GET /bkt/k"])
        XCTAssertTrue(try Data(contentsOf: URL(fileURLWithPath: target)) == Data((0..<size).map { UInt8($0 % 251) }))
    }

    func testClientErrorsAreNotRetried() throws {
        let server = try ScriptedS3Server(steps: ["400", "200"])
        let error = s3Error { _ = try self.client(server.endpoint).putObject(bucket: "bkt", key: "k", bytes: [1]) }
        XCTAssertEqual(error?.kind, .invalidRequest)
        XCTAssertEqual(error?.status, 400)
        XCTAssertEqual(server.requests.count, 1, "a 400 is an answer, not a failure to retry")
    }

    func testClosedPortIsUnreachableQuicklyWithBoundedRetries() throws {
        let port = try closedPort()
        let started = Date()
        // A refused connection is an answer: three attempts take far less than one connect timeout (20 s).
        let error = s3Error { _ = try self.client("http://127.0.0.1:\(port)", maxAttempts: 3, connectTimeout: 20).headObject(bucket: "bkt", key: "k") }
        XCTAssertEqual(error?.kind, .unreachable)
        XCTAssertEqual(error?.isRetryable, true)
        XCTAssertEqual(error?.message.contains("(after 3 attempts)"), true, error?.message ?? "")
        XCTAssertEqual(error?.operation, "HEAD s3://bkt/k")
        XCTAssertLessThan(Date().timeIntervalSince(started), 15, "a loaded CI machine is slow, but not a connect timeout slow")
    }

    func testSilentServerTimesOut() throws {
        let server = try ScriptedS3Server(steps: ["hang"])
        let started = Date()
        let error = s3Error { _ = try self.client(server.endpoint, maxAttempts: 2, requestTimeout: 1).list(bucket: "bkt", prefix: "") }
        XCTAssertEqual(error?.kind, .timeout)
        XCTAssertEqual(server.requests.count, 2)
        // Two 1 s timeouts; without them each attempt would wait the server's 30 s.
        XCTAssertLessThan(Date().timeIntervalSince(started), 15)
    }

    func testFailedMultipartUploadIsAborted() throws {
        // Initiate succeeds, the first part is refused: the upload must be aborted (DELETE ?uploadId=…).
        let server = try ScriptedS3Server(steps: ["initiate", "400", "200"])
        var configuration = S3Configuration(endpoint: server.endpoint, credentials: S3Credentials(accessKeyId: "AKID", secretAccessKey: secret))
        configuration.multipartThreshold = 1 << 20
        configuration.partSize = 5 << 20
        let directory = try TemporaryDirectory()
        let path = directory.file("big")
        try writeRandomFile(path, size: 6 << 20, seed: 1)
        let error = s3Error { _ = try S3Client(configuration).putObject(bucket: "bkt", key: "k", fromFile: path) }
        XCTAssertEqual(error?.kind, .invalidRequest)
        XCTAssertEqual(server.requests, ["POST /bkt/k?uploads=", "PUT /bkt/k?partNumber=1&uploadId=u-1", "DELETE /bkt/k?uploadId=u-1"])
    }

    func testCompletionThatFailsWithStatus200IsRetriedThenAborted() throws {
        // S3 may answer CompleteMultipartUpload with 200 and an <Error> body: InternalError there is retried.
        let directory = try TemporaryDirectory()
        let path = directory.file("big")
        try writeRandomFile(path, size: 10 << 20, seed: 2)   // two parts
        func configuration(_ endpoint: String, maxAttempts: Int) -> S3Configuration {
            var configuration = S3Configuration(endpoint: endpoint, credentials: S3Credentials(accessKeyId: "AKID", secretAccessKey: secret),
                                                maxAttempts: maxAttempts, retryBaseDelay: 0.01, multipartThreshold: 1 << 20, partSize: 5 << 20)
            configuration.retryMaxDelay = 0.1
            return configuration
        }
        let flaky = try ScriptedS3Server(steps: ["initiate", "200", "200", "200error", "completed"])
        XCTAssertEqual(try S3Client(configuration(flaky.endpoint, maxAttempts: 3)).putObject(bucket: "bkt", key: "k", fromFile: path), "\"abc-2\"")
        XCTAssertEqual(flaky.requests, ["POST /bkt/k?uploads=", "PUT /bkt/k?partNumber=1&uploadId=u-1", "PUT /bkt/k?partNumber=2&uploadId=u-1",
                                        "POST /bkt/k?uploadId=u-1", "POST /bkt/k?uploadId=u-1"])

        let broken = try ScriptedS3Server(steps: ["initiate", "200", "200", "200error", "200error", "200"])
        let error = s3Error { _ = try S3Client(configuration(broken.endpoint, maxAttempts: 2)).putObject(bucket: "bkt", key: "k", fromFile: path) }
        XCTAssertEqual(error?.code, "InternalError")
        XCTAssertEqual(error?.message.hasPrefix("completing the multipart upload failed"), true, error?.message ?? "")
        XCTAssertEqual(error?.message.hasSuffix("(after 2 attempts)"), true, error?.message ?? "")
        XCTAssertEqual(broken.requests, ["POST /bkt/k?uploads=", "PUT /bkt/k?partNumber=1&uploadId=u-1", "PUT /bkt/k?partNumber=2&uploadId=u-1",
                                         "POST /bkt/k?uploadId=u-1", "POST /bkt/k?uploadId=u-1", "DELETE /bkt/k?uploadId=u-1"])
    }

    func testACompletionWhoseAnswerWasLostIsConfirmedByTheObjectsETag() throws {
        // The first CompleteMultipartUpload is applied but its answer lost (reset); the retry finds the upload gone.
        let directory = try TemporaryDirectory()
        let path = directory.file("big")
        try writeRandomFile(path, size: 10 << 20, seed: 3)   // two parts, each tagged 0123456789abcdef0123456789abcdef
        var configuration = S3Configuration(endpoint: "", credentials: S3Credentials(accessKeyId: "AKID", secretAccessKey: secret),
                                            maxAttempts: 3, retryBaseDelay: 0.01, multipartThreshold: 1 << 20, partSize: 5 << 20)
        configuration.retryMaxDelay = 0.1
        // md5(bytes.fromhex(part) * 2) + "-2", computed with Python's hashlib.
        let written = "5775d833b6f80e83231f82899ce76c00-2"
        let lost = try ScriptedS3Server(steps: ["initiate", "200", "200", "reset", "nosuchupload", "head:\(written)"])
        configuration.endpoint = lost.endpoint
        XCTAssertEqual(try S3Client(configuration).putObject(bucket: "bkt", key: "k", fromFile: path), "\"\(written)\"")
        XCTAssertEqual(lost.requests.suffix(3), ["POST /bkt/k?uploadId=u-1", "POST /bkt/k?uploadId=u-1", "HEAD /bkt/k"])

        // Another object under the key (another ETag): the upload really failed.
        let other = try ScriptedS3Server(steps: ["initiate", "200", "200", "reset", "nosuchupload", "head:ffffffffffffffffffffffffffffffff-2", "200"])
        configuration.endpoint = other.endpoint
        let error = s3Error { _ = try S3Client(configuration).putObject(bucket: "bkt", key: "k", fromFile: path) }
        XCTAssertEqual(error?.code, "NoSuchUpload")
    }

    func testSecretNeverAppearsInErrors() throws {
        // A server that quotes the secret back, a closed port, a missing file: none of the errors may carry it.
        let server = try ScriptedS3Server(steps: ["403echo"], echo: secret)
        var errors: [S3Error] = []
        errors += [s3Error { _ = try self.client(server.endpoint).putObject(bucket: "bkt", key: "k", bytes: [1]) }].compactMap { $0 }
        errors += [s3Error { _ = try self.client("http://127.0.0.1:\(try self.closedPort())", maxAttempts: 1).list(bucket: "bkt", prefix: "p") }].compactMap { $0 }
        errors += [s3Error { _ = try self.client(server.endpoint).putObject(bucket: "bkt", key: "k", fromFile: "/nonexistent/\(self.secret)") }].compactMap { $0 }
        XCTAssertEqual(errors.count, 3)
        XCTAssertEqual(errors.first?.kind, .accessDenied)
        for error in errors {
            for text in [error.description, error.message, String(describing: error), String(reflecting: error)] {
                XCTAssertFalse(text.contains(secret), text)
            }
        }
        let configuration = S3Configuration(endpoint: "http://127.0.0.1:1", credentials: S3Credentials(accessKeyId: "AKIDSHOWN", secretAccessKey: secret, sessionToken: "token-Zx81"))
        for text in [String(describing: configuration), String(reflecting: configuration), "\(configuration.credentials!)"] {
            XCTAssertFalse(text.contains(secret), text)
            XCTAssertFalse(text.contains("token-Zx81"), text)
            XCTAssertTrue(text.contains("AKIDSHOWN"), text)
        }
    }

    func testMissingCredentialsAreRefusedUpFront() {
        XCTAssertEqual(s3Error { _ = try S3Client(S3Configuration(endpoint: "http://127.0.0.1:9000")) }?.kind, .missingCredentials)
        let configuration = S3Configuration.fromEnvironment(["AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "",
                                                             "AWS_ENDPOINT_URL": "http://a:1", "AWS_ENDPOINT_URL_S3": "http://b:2",
                                                             "AWS_DEFAULT_REGION": "eu-west-1"])
        XCTAssertNil(configuration.credentials)
        XCTAssertEqual(configuration.endpoint, "http://b:2")
        XCTAssertEqual(configuration.region, "eu-west-1")
        let full = S3Configuration.fromEnvironment(["AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "s", "AWS_SESSION_TOKEN": "t",
                                                    "AWS_REGION": "eu-central-1", "AWS_DEFAULT_REGION": "eu-west-1"])
        XCTAssertEqual(full.credentials?.sessionToken, "t")
        XCTAssertEqual(full.region, "eu-central-1")
        XCTAssertNil(full.endpoint)
    }

    /// A port nothing listens on: bound, then closed.
    private func closedPort() throws -> Int {
        let output = try runTool("/usr/bin/env", ["python3", "-c", "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])"])
        return try XCTUnwrap(Int(output.trimmingCharacters(in: .whitespacesAndNewlines)))
    }
}
