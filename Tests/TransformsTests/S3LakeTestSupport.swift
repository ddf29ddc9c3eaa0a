import Foundation
import S3Client
import Transforms
import XCTest

/// A bucket of its own on the moto server scripts/test starts (ORCHESTRATOR_TEST_S3_ENDPOINT), and an S3 lake in it.
struct S3LakeFixture {
    let endpoint: String
    let bucket: String
    let client: S3Client
    let home: String

    /// The endpoint, or a skip (a failure under ORCHESTRATOR_TEST_STRICT=1, where scripts/test must have started it).
    static func requireEndpoint() throws -> String {
        if let endpoint = ProcessInfo.processInfo.environment["ORCHESTRATOR_TEST_S3_ENDPOINT"], !endpoint.isEmpty { return endpoint }
        if ProcessInfo.processInfo.environment["ORCHESTRATOR_TEST_STRICT"] == "1" {
            XCTFail("ORCHESTRATOR_TEST_S3_ENDPOINT is not set (scripts/test starts a moto server)")
        }
        throw XCTSkip("no S3 test server: set ORCHESTRATOR_TEST_S3_ENDPOINT (scripts/test does)")
    }

    init(home: String) throws {
        endpoint = try Self.requireEndpoint()
        bucket = "lake-" + UUID().uuidString.lowercased().prefix(18)
        client = try S3Client(S3Configuration(endpoint: endpoint, credentials: S3Credentials(accessKeyId: "testing", secretAccessKey: "testing-secret")))
        try client.createBucket(bucket)
        self.home = home
    }

    var environment: [String: String] {
        ["AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing-secret", "AWS_ENDPOINT_URL": endpoint]
    }

    func lake(prefix: String = "lake", environment extra: [String: String] = [:]) throws -> any Lake {
        try LakeFactory.make(url: "s3://\(bucket)/\(prefix)", home: home, folder: home,
                             environment: environment.merging(extra) { $1 }, connections: Connections(urls: [:]))
    }

    /// Every key of the bucket, sorted.
    func keys() throws -> [String] { try client.list(bucket: bucket, prefix: "").objects.map(\.key).sorted() }

    /// The version a partition's manifest names, read straight from the bucket.
    func currentVersion(_ partitionPath: String, prefix: String = "lake") throws -> String? {
        try manifestField("version", partitionPath, prefix: prefix)
    }

    /// The version the current manifest superseded (kept for readers of the old manifest until the next publish).
    func previousVersion(_ partitionPath: String, prefix: String = "lake") throws -> String? {
        try manifestField("previous", partitionPath, prefix: prefix)
    }

    private func manifestField(_ field: String, _ partitionPath: String, prefix: String) throws -> String? {
        guard let (bytes, _) = try client.getObject(bucket: bucket, key: "\(prefix)/\(partitionPath)/_manifest.json", maxBytes: 1 << 20),
              let object = try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] else { return nil }
        return object[field] as? String
    }

    /// Version objects neither the manifest nor the version it superseded name, and local staging folders: what a
    /// finished publish must not leave.
    func leftovers(prefix: String = "lake") throws -> [String] {
        var found = (try? FileManager.default.contentsOfDirectory(atPath: "\(home)/tmp/lake-staging")) ?? []
        for key in try keys() where key.hasPrefix("\(prefix)/_versions/") {
            var parts = key.dropFirst("\(prefix)/_versions/".count).split(separator: "/").map(String.init)
            parts.removeLast()
            let version = parts.removeLast()
            let partition = parts.joined(separator: "/")
            if try currentVersion(partition, prefix: prefix) != version, try previousVersion(partition, prefix: prefix) != version {
                found.append(key)
            }
        }
        return found
    }
}
