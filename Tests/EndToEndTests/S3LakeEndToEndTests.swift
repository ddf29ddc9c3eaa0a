import Foundation
import S3Client
import XCTest

/// The lake on S3 (moto): shop_lake gives the same warehouse as on the local lake, a --reset backfill leaves no
/// second copy, a publish killed half way leaves the previous version whole, and failures are one clear line.
final class S3LakeEndToEndTests: XCTestCase {
    func testShopLakeOnS3GivesTheSameWarehouseAsTheLocalLakeAndResetLeavesNoSecondCopy() throws {
        let s3 = try S3LakeBucket()
        let days = ["2024-03-01", "2024-03-02", "2024-03-03"]
        let local = try ShopLakeTests.makeHarness(days: 3)
        let onS3 = try ShopLakeTests.makeHarness(days: 3)
        s3.use(in: onS3)
        for h in [local, onS3] {
            let backfill = try h.run(["backfill", "shop_lake", "--start", days[0], "--end", days[2]], timeout: 300)
            let log = try h.run(["logs", "shop_lake", "silver", "--date", days[0]]).stdout
            XCTAssertEqual(backfill.status, 0, backfill.stderr + log)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: onS3.home.appendingPathComponent("lake").path), "nothing in a local lake")
        let expected = try warehouseTables(local.home.appendingPathComponent("warehouse.db").path)
        let actual = try warehouseTables(onS3.home.appendingPathComponent("warehouse.db").path)
        XCTAssertEqual(expected.keys.sorted(), actual.keys.sorted())
        XCTAssertGreaterThan(expected["fact_sales"]?.count ?? 0, 300)
        for (table, rows) in expected { XCTAssertEqual(actual[table] ?? [], rows, "warehouse table \(table) differs") }

        // Every partition of the three days is in the bucket, once.
        let before = try s3.manifests()
        for day in days {
            for partition in ["bronze/shop/clients", "bronze/shop/purchases", "silver/clients", "silver/purchases", "gold/fact_sales"] {
                XCTAssertNotNil(before["\(partition)/ds=\(day)"], "\(partition)/ds=\(day)")
            }
        }
        XCTAssertEqual(try s3.unreferencedVersions(), [])

        // A --reset backfill publishes every partition again: new versions, and the old ones are gone.
        let reset = try onS3.run(["backfill", "shop_lake", "--start", days[0], "--end", days[2], "--reset"], timeout: 300)
        XCTAssertEqual(reset.status, 0, reset.stderr)
        let after = try s3.manifests()
        XCTAssertEqual(after.keys.sorted(), before.keys.sorted())
        for (partition, version) in before { XCTAssertNotEqual(after[partition], version, "\(partition) was not replaced") }
        // Each superseded version stays (for readers of the old manifest) until the next publish or gc: exactly the
        // one the reset replaced, never another copy.
        let superseded = Set(before.map { "lake/_versions/\($0.key)/\($0.value)/" })
        let leftovers = try s3.unreferencedVersions()
        XCTAssertFalse(leftovers.isEmpty)
        for key in leftovers {
            XCTAssertTrue(superseded.contains { key.hasPrefix($0) }, "\(key): a second copy of a partition stayed in the bucket")
        }
        let gc = try onS3.run(["lake", "gc", "--grace", "0s"])
        XCTAssertEqual(gc.status, 0, gc.stderr)
        XCTAssertEqual(try s3.unreferencedVersions(), [], "gc left a superseded version")
        XCTAssertEqual(try s3.manifests(), after)
        XCTAssertEqual(try warehouseTables(onS3.home.appendingPathComponent("warehouse.db").path), expected)
    }

    func testAPublishKilledHalfWayLeavesThePreviousVersionWholeAndGcCleansUp() throws {
        let s3 = try S3LakeBucket()
        let h = try Harness()
        s3.use(in: h)
        h.extraEnvironment["ORCHESTRATOR_DS"] = "2024-01-01"
        h.extraEnvironment["ORCHESTRATOR_DATA_INTERVAL_START"] = "2024-01-01T00:00:00Z"
        h.extraEnvironment["ORCHESTRATOR_DATA_INTERVAL_END"] = "2024-01-02T00:00:00Z"
        try FileManager.default.createDirectory(atPath: h.path("v1"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: h.path("v2"), withIntermediateDirectories: true)
        let small = "id,name\n1,first\n2,version\n"
        try small.write(toFile: h.path("v1/big.csv"), atomically: true, encoding: .utf8)
        // Big enough for a multipart upload that takes a while (and holds a second file first: _manifest.json).
        let line = Data("12345678,some text that fills the line up to a hundred bytes or so for the upload to take time\n".utf8)
        FileManager.default.createFile(atPath: h.path("v2/big.csv"), contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: h.path("v2/big.csv")))
        var chunk = Data()
        for _ in 0..<10_000 { chunk.append(line) }
        for _ in 0..<150 { handle.write(chunk) }
        try handle.close()

        func extract(_ folder: String) -> [String] { ["transform", "extract.files", "--with", #"{"source":"files","files":["\#(h.path(folder))/big.csv"]}"#] }
        // Kill the second publish while it uploads: once the staged copy is complete and its first version object is
        // in the bucket. On a fast machine it may finish first (polling is coarse): then publish v1 again and retry.
        var previous = ""
        var killed = false
        for _ in 0..<3 where !killed {
            let first = try h.run(extract("v1"))
            XCTAssertEqual(first.status, 0, first.stderr + first.stdout)
            previous = try XCTUnwrap(try s3.manifests()["bronze/files/big/ds=2024-01-01"])
            let process = Process()
            process.executableURL = URL(fileURLWithPath: Harness.orchestrator)
            process.arguments = extract("v2")
            process.environment = h.environment
            process.standardOutput = FileHandle.nullDevice
            try process.run()
            let deadline = Date().addingTimeInterval(60)
            while Date() < deadline, process.isRunning, try s3.keys(under: "lake/_versions/bronze/files/big/ds=2024-01-01/")
                .allSatisfy({ $0.contains("/\(previous)/") }) {
                usleep(5_000)
            }
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            let current = try s3.manifests()["bronze/files/big/ds=2024-01-01"]
            killed = process.terminationReason == .uncaughtSignal && current == previous
        }
        XCTAssertTrue(killed, "the publish finished before it could be killed, three times")

        XCTAssertEqual(try s3.manifests()["bronze/files/big/ds=2024-01-01"], previous, "the killed publish became current")
        let key = "lake/_versions/bronze/files/big/ds=2024-01-01/\(previous)/big.csv"
        let whole = try XCTUnwrap(try s3.client.getObject(bucket: s3.bucket, key: key, maxBytes: 1 << 20))
        XCTAssertEqual(String(decoding: whole.bytes, as: UTF8.self), small, "the previous version is readable whole")
        let leftovers = try s3.unreferencedVersions()
        XCTAssertFalse(leftovers.isEmpty, "the killed writer left nothing to collect (the test proves nothing)")
        XCTAssertFalse(try FileManager.default.contentsOfDirectory(atPath: h.home.appendingPathComponent("tmp/lake-staging").path).isEmpty)

        // gc leaves a recent writer alone, and removes what is past the grace period.
        let recent = try h.run(["lake", "gc"])
        XCTAssertEqual(recent.status, 0, recent.stderr)
        XCTAssertEqual(try s3.unreferencedVersions(), leftovers)
        let gc = try h.run(["lake", "gc", "--grace", "0s"])
        XCTAssertEqual(gc.status, 0, gc.stderr)
        XCTAssertTrue(gc.stdout.contains("s3://\(s3.bucket)/lake:"), gc.stdout)
        XCTAssertEqual(try s3.unreferencedVersions(), [])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: h.home.appendingPathComponent("tmp/lake-staging").path), [])
        XCTAssertEqual(try s3.manifests()["bronze/files/big/ds=2024-01-01"], previous)
        XCTAssertNotNil(try s3.client.headObject(bucket: s3.bucket, key: key))
    }

    func testAMissingBucketOrNoCredentialsFailTheTaskInOneLineAndPublishNothing() throws {
        let s3 = try S3LakeBucket()
        let h = try ShopLakeTests.makeHarness(days: 1)
        s3.use(in: h)
        h.extraEnvironment["ORCHESTRATOR_LAKE"] = "s3://\(s3.bucket)-missing/lake"
        let missing = try h.run(["backfill", "shop_lake", "--start", "2024-03-01", "--end", "2024-03-01"], timeout: 120)
        XCTAssertNotEqual(missing.status, 0)
        let log = try h.run(["logs", "shop_lake", "extract", "--date", "2024-03-01"]).stdout
        let lines = log.split(separator: "\n").filter { $0.contains("s3://\(s3.bucket)-missing/lake") }
        XCTAssertEqual(lines.count, 1, log)
        XCTAssertTrue(lines.first?.contains("cannot publish bronze/shop/clients/ds=2024-03-01") ?? false, log)
        XCTAssertTrue(lines.first?.lowercased().contains("bucket") ?? false, log)
        XCTAssertFalse(log.contains("e2e-secret-k3y"), log)

        // No credentials at all: the task says so and the (existing) bucket stays empty.
        let bare = try ShopLakeTests.makeHarness(days: 1)
        bare.extraEnvironment["ORCHESTRATOR_LAKE"] = "s3://\(s3.bucket)/lake"
        bare.extraEnvironment["AWS_ENDPOINT_URL"] = s3.endpoint
        let noCredentials = try bare.run(["backfill", "shop_lake", "--start", "2024-03-01", "--end", "2024-03-01"], timeout: 120)
        XCTAssertNotEqual(noCredentials.status, 0)
        let bareLog = try bare.run(["logs", "shop_lake", "extract", "--date", "2024-03-01"]).stdout
        XCTAssertTrue(bareLog.contains("lake s3://\(s3.bucket)/lake: no S3 credentials (set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or ?connection=NAME)"), bareLog)
        XCTAssertEqual(try s3.keys(), [])
    }
}

/// social_elt with its lake on S3 gives the same warehouse as with the local lake (extract.postgres, silver.clean
/// with rejects and foreign keys, gold.sql, load.warehouse and load.postgres, quality.check).
final class SocialEltS3LakeTests: PostgresTestCase {
    func testSocialEltOnS3GivesTheSameWarehouseAsTheLocalLake() throws {
        let s3 = try S3LakeBucket()
        let repository = ShopLakeTests.repository
        let seedFolder = NSTemporaryDirectory() + "social-seed-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: seedFolder) }
        try seedSocialSource(users: 60, out: seedFolder)

        var warehouses: [[String: [[String]]]] = []
        for onS3 in [false, true] {
            let h = try Harness()
            h.extraEnvironment["ORCHESTRATOR_CONN_SOCIAL_DB"] = databaseURL
            h.extraEnvironment["ORCHESTRATOR_CONN_REPORTING_DB"] = databaseURL
            if onS3 { s3.use(in: h) }
            let dags = repository.appendingPathComponent("dags")
            try FileManager.default.copyItem(at: dags.appendingPathComponent("social_elt"), to: h.dags.appendingPathComponent("social_elt"))
            try h.writeDag("social_elt", try String(contentsOf: dags.appendingPathComponent("social_elt.yaml"), encoding: .utf8)
                .replacingOccurrences(of: "retries: 2", with: "retries: 0"))
            let backfill = try h.run(["backfill", "social_elt", "--start", "2024-06-01", "--end", "2024-06-02"], timeout: 300)
            var logs = ""
            if backfill.status != 0 {
                for task in ["extract", "silver", "gold", "load", "quality"] {
                    logs += try h.run(["logs", "social_elt", task, "--date", "2024-06-01"]).stdout
                }
            }
            XCTAssertEqual(backfill.status, 0, backfill.stderr + logs)
            warehouses.append(try warehouseTables(h.home.appendingPathComponent("warehouse.db").path))
        }
        XCTAssertGreaterThan(warehouses[0]["global_user_activity_per_day"]?.count ?? 0, 10)
        XCTAssertEqual(warehouses[0].keys.sorted(), warehouses[1].keys.sorted())
        for (table, rows) in warehouses[0] { XCTAssertEqual(warehouses[1][table] ?? [], rows, "warehouse table \(table) differs") }
        XCTAssertFalse(try s3.manifests().isEmpty)
        XCTAssertEqual(try s3.unreferencedVersions(), [])
    }
}
