import Foundation
import GRDB
import S3Client
import XCTest

/// A bucket of its own on the moto server scripts/test starts, for harnesses whose lake is on S3.
struct S3LakeBucket {
    let endpoint: String
    let bucket: String
    let client: S3Client

    init() throws {
        guard let endpoint = ProcessInfo.processInfo.environment["ORCHESTRATOR_TEST_S3_ENDPOINT"], !endpoint.isEmpty else {
            if ProcessInfo.processInfo.environment["ORCHESTRATOR_TEST_STRICT"] == "1" {
                XCTFail("ORCHESTRATOR_TEST_S3_ENDPOINT is not set (scripts/test starts a moto server)")
            }
            throw XCTSkip("no S3 test server: set ORCHESTRATOR_TEST_S3_ENDPOINT (scripts/test does)")
        }
        self.endpoint = endpoint
        bucket = "e2e-" + UUID().uuidString.lowercased().prefix(18)
        client = try S3Client(S3Configuration(endpoint: endpoint, credentials: S3Credentials(accessKeyId: "testing", secretAccessKey: "e2e-secret-k3y")))
        try client.createBucket(bucket)
    }

    /// Puts the harness's lake in this bucket, under `prefix`.
    func use(in harness: Harness, prefix: String = "lake") {
        harness.extraEnvironment["ORCHESTRATOR_LAKE"] = "s3://\(bucket)/\(prefix)"
        harness.extraEnvironment["AWS_ACCESS_KEY_ID"] = "testing"
        harness.extraEnvironment["AWS_SECRET_ACCESS_KEY"] = "e2e-secret-k3y"
        harness.extraEnvironment["AWS_ENDPOINT_URL"] = endpoint
    }

    func keys(under prefix: String = "") throws -> [String] { try client.list(bucket: bucket, prefix: prefix).objects.map(\.key).sorted() }

    /// The version each partition's manifest names, read from the bucket: `silver/clients/ds=…` → version.
    func manifests(prefix: String = "lake") throws -> [String: String] {
        var versions: [String: String] = [:]
        for key in try keys(under: prefix + "/") where key.hasSuffix("/_manifest.json") && !key.hasPrefix("\(prefix)/_versions/") {
            guard let (bytes, _) = try client.getObject(bucket: bucket, key: key, maxBytes: 1 << 20),
                  let object = try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any],
                  let version = object["version"] as? String else { continue }
            versions[String(key.dropFirst(prefix.count + 1).dropLast("/_manifest.json".count))] = version
        }
        return versions
    }

    /// Version objects that no manifest names: what a finished run must not leave (a second copy of a partition).
    func unreferencedVersions(prefix: String = "lake") throws -> [String] {
        let current = try manifests(prefix: prefix)
        return try keys(under: "\(prefix)/_versions/").filter { key in
            var parts = key.dropFirst("\(prefix)/_versions/".count).split(separator: "/").map(String.init)
            parts.removeLast()
            let version = parts.removeLast()
            return current[parts.joined(separator: "/")] != version
        }
    }
}

/// Every table of a SQLite warehouse, each as its rows in a stable order, for comparing two warehouses.
func warehouseTables(_ path: String) throws -> [String: [[String]]] {
    let queue = try DatabaseQueue(path: path)
    return try queue.read { db in
        var tables: [String: [[String]]] = [:]
        for name in try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name") {
            let rows: [[String]] = try Row.fetchAll(db, sql: "SELECT * FROM \"\(name)\"").map { row in
                Array(row.databaseValues.map { "\($0)" })
            }
            tables[name] = rows.sorted { $0.joined(separator: "\u{1}") < $1.joined(separator: "\u{1}") }
        }
        return tables
    }
}
