import Foundation
import S3Client
import XCTest

/// Issue 13 on S3 (moto) beyond the shop_lake and social_elt runs: extract.http into the bucket, a silver.clean
/// over its reject limit, the task pages' results against the local lake's, and a store that cannot be reached,
/// refuses the credentials or denies access (one clear line, no secret anywhere, nothing published).
final class S3LakeCoverageTests: XCTestCase {
    let http = HTTPClient()
    var servers: [Process] = []

    override func tearDown() {
        for server in servers where server.isRunning {
            server.terminate()
            server.waitUntilExit()
        }
    }

    func testExtractHTTPPublishesItsPartitionInTheBucket() throws {
        let s3 = try S3LakeBucket()
        let h = try Harness()
        s3.use(in: h)
        let (server, port) = try h.startPythonServer(HTTPExtractTests.server, name: "api", log: "requests.log")
        servers.append(server)
        h.extraEnvironment["ORCHESTRATOR_CONN_API"] = "http://sekrit-token-42@127.0.0.1:\(port)/v1"
        try h.writeDag("api", """
            dag_id: api
            schedule: "@daily"
            catchup: false
            start_date: 2024-01-01
            tasks:
              - id: events
                transform: extract.http
                with: { connection: api, path: /events, source: api, table: events, pagination: { type: page, param: page, size_param: per_page, size: 2 }, retries: 3 }
            """)
        let backfill = try h.run(["backfill", "api", "--start", "2024-01-01", "--end", "2024-01-01"], timeout: 120)
        let log = try h.run(["logs", "api", "events", "--date", "2024-01-01"]).stdout
        XCTAssertEqual(backfill.status, 0, backfill.stderr + log)
        XCTAssertFalse(FileManager.default.fileExists(atPath: h.home.appendingPathComponent("lake").path), "nothing in a local lake")

        let partition = "bronze/api/events/ds=2024-01-01"
        let manifest = try json(s3, "lake/\(partition)/_manifest.json")
        let version = try XCTUnwrap(manifest["version"] as? String)
        let files = (manifest["files"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }.sorted()
        XCTAssertEqual(files, ["_manifest.json", "records.jsonl"])
        let records = try text(s3, "lake/_versions/\(partition)/\(version)/records.jsonl").split(separator: "\n")
        XCTAssertEqual(records, [#"{"id":1,"text":"a, \"quoted\""}"#, #"{"id":2}"#, #"{"id":3}"#, #"{"id":4,"nested":{"x":[1,2]}}"#])
        let extractManifest = try json(s3, "lake/_versions/\(partition)/\(version)/_manifest.json")
        XCTAssertEqual(extractManifest["pages"] as? Int, 3)
        XCTAssertEqual(extractManifest["retries"] as? Int, 2, "one 503 and one 429")
        XCTAssertEqual(try s3.unreferencedVersions(), [])

        // Run again, the partition is replaced whole: a new version; the superseded one stays for readers of the old
        // manifest until the next publish or gc (decision 9), and no other copy; the task page names it.
        XCTAssertEqual(try h.run(["backfill", "api", "--start", "2024-01-01", "--end", "2024-01-01", "--reset"]).status, 0)
        XCTAssertNotEqual(try s3.manifests()[partition], version)
        for key in try s3.unreferencedVersions() {
            XCTAssertTrue(key.hasPrefix("lake/_versions/\(partition)/\(version)/"), "\(key): a second copy of the partition stayed")
        }
        XCTAssertEqual(try h.run(["lake", "gc", "--grace", "0s"]).status, 0)
        XCTAssertEqual(try s3.unreferencedVersions(), [], "gc left the superseded version")
        let page = try taskPages(h, dag: "api", date: "2024-01-01", tasks: ["events"])["events"] ?? ""
        XCTAssertTrue(page.contains("<h2>Results</h2>") && page.contains(partition), page)
        XCTAssertFalse(page.contains("sekrit-token-42") || log.contains("sekrit-token-42") || backfill.stdout.contains("sekrit-token-42"))
    }

    /// A decimal-comma day (as in DataDriftTests) on S3: silver fails, nothing of that day's purchases is published,
    /// the rejects are in quarantine/ in the bucket, and the task page says why exactly as with the local lake.
    func testARejectLimitOnS3PublishesNothingKeepsTheRejectsAndTheTaskPageSaysWhy() throws {
        let s3 = try S3LakeBucket()
        let day = "2024-03-01"
        var banners: [String] = []
        for onS3 in [false, true] {
            let h = try ShopLakeTests.makeHarness(days: 1)
            if onS3 { s3.use(in: h) }
            let file = h.path("data/shop/\(day)/purchases.csv")
            let drop = try String(contentsOfFile: file, encoding: .utf8)
            try drop.replacingOccurrences(of: #",(-?\d+)\.(\d\d),"#, with: #","$1,$2","#, options: .regularExpression)
                .write(toFile: file, atomically: true, encoding: .utf8)
            let rowsIn = drop.components(separatedBy: "\r\n").dropFirst().filter { !$0.isEmpty }.count
            XCTAssertGreaterThan(rowsIn, 100)

            let backfill = try h.run(["backfill", "shop_lake", "--start", day, "--end", day], timeout: 180)
            XCTAssertEqual(backfill.status, 1, backfill.stderr)
            XCTAssertEqual(try h.tasks(dag: "shop_lake", date: day)["silver"]?["state"] as? String, "failed")
            let page = try taskPages(h, dag: "shop_lake", date: day, tasks: ["silver"])["silver"] ?? ""
            let banner = try XCTUnwrap(page.range(of: #"<div class="banner problem-error">[^<]*</div>"#, options: .regularExpression).map { String(page[$0]) }, page)
            XCTAssertTrue(banner.contains("error: silver.clean: table purchases ds=\(day): "), banner)
            XCTAssertNotNil(banner.range(of: #": \d+ of \#(rowsIn) rows rejected \(\d+\.\d%, above max_reject_ratio 0.5\)"#, options: .regularExpression), banner)
            XCTAssertTrue(banner.contains("rejects kept in quarantine/purchases/ds=\(day)/rejects.csv"), banner)
            banners.append(banner)
            guard onS3 else { continue }

            XCTAssertFalse(FileManager.default.fileExists(atPath: h.home.appendingPathComponent("lake").path), "nothing in a local lake")
            let manifests = try s3.manifests()
            XCTAssertNil(manifests["silver/purchases/ds=\(day)"], "the failed day's purchases were published")
            XCTAssertEqual(try s3.keys(under: "lake/silver/purchases/"), [])
            XCTAssertEqual(try s3.keys(under: "lake/_versions/silver/purchases/"), [], "half a publish stayed in the bucket")
            XCTAssertNil(manifests["gold/fact_sales/ds=\(day)"])
            let quarantine = try json(s3, "lake/quarantine/purchases/ds=\(day)/_manifest.json")
            let version = try XCTUnwrap(quarantine["version"] as? String)
            let files = (quarantine["files"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }.sorted()
            XCTAssertTrue(files.contains("rejects.csv") && files.contains("quality.json") && !files.contains("data.csv"), "\(files)")
            let quality = try json(s3, "lake/_versions/quarantine/purchases/ds=\(day)/\(version)/quality.json")
            XCTAssertEqual(quality["rows_in"] as? Int, rowsIn)
            let rejects = try text(s3, "lake/_versions/quarantine/purchases/ds=\(day)/\(version)/rejects.csv")
            XCTAssertNotNil(rejects.range(of: #""\d+,\d\d""#, options: .regularExpression), "the decimal-comma rows are kept")
            XCTAssertEqual(try s3.unreferencedVersions(), [])
        }
        XCTAssertEqual(banners[0], banners[1], "the task page differs between the local lake and S3")
    }

    /// The task pages' results (rows in and out, quality, what each task wrote) of a shop_lake day on S3 are those
    /// of the same day on the local lake.
    func testTheTaskPagesOfAShopLakeDayOnS3ShowTheSameResultsAsOnTheLocalLake() throws {
        let s3 = try S3LakeBucket()
        let day = "2024-03-01"
        var sections: [[String: String]] = []
        for onS3 in [false, true] {
            let h = try ShopLakeTests.makeHarness(days: 1)
            if onS3 { s3.use(in: h) }
            let backfill = try h.run(["backfill", "shop_lake", "--start", day, "--end", day], timeout: 180)
            XCTAssertEqual(backfill.status, 0, backfill.stderr)
            let pages = try taskPages(h, dag: "shop_lake", date: day, tasks: try h.tasks(dag: "shop_lake", date: day).keys.sorted())
            sections.append(pages.mapValues(resultsSection))
            if onS3 { XCTAssertNotNil(try s3.manifests()["silver/purchases/ds=\(day)"]) }
        }
        XCTAssertEqual(sections[0].keys.sorted(), sections[1].keys.sorted())
        XCTAssertGreaterThanOrEqual(sections[0].values.filter { !$0.isEmpty }.count, 4, "\(sections[0])")
        XCTAssertTrue(sections[0]["silver"]?.contains("silver/purchases/ds=\(day)") ?? false, "\(sections[0])")
        XCTAssertNotNil(sections[0]["silver"]?.range(of: #"\d+ in, \d+ out"#, options: .regularExpression), "\(sections[0])")
        for (task, section) in sections[0] { XCTAssertEqual(sections[1][task], section, "the results of \(task) differ on S3") }
    }

    /// AWS_ENDPOINT_URL at a closed port: the task fails in bounded time, in one line naming the lake and what
    /// it was doing, and the secret key is nowhere (logs, output, page, any file of the home).
    func testAnUnreachableEndpointFailsTheTaskInOneLineWithoutTheSecret() throws {
        let h = try filesHarness()
        let secret = "s3cov-Unreachable-S3cret-9f2Q"
        h.extraEnvironment["ORCHESTRATOR_LAKE"] = "s3://cov-bucket/lake"
        h.extraEnvironment["AWS_ACCESS_KEY_ID"] = "testing"
        h.extraEnvironment["AWS_SECRET_ACCESS_KEY"] = secret
        let endpoint = "http://127.0.0.1:\(try closedPort())"
        h.extraEnvironment["AWS_ENDPOINT_URL"] = endpoint
        let line = try assertFailsInOneLine(h, lake: "s3://cov-bucket/lake", secret: secret, within: 60)
        XCTAssertTrue(line.contains(endpoint) && line.contains("GET s3://cov-bucket/lake/bronze/crm/people/ds=2024-01-01/_manifest.json"), line)
    }

    /// Against a moto that checks signatures and policies: a wrong secret key, then a bucket the policy denies.
    /// Each fails the task in one line, nothing lands in the bucket, and neither secret appears anywhere.
    func testWrongCredentialsAndDeniedAccessFailTheTaskInOneLineWithoutTheSecret() throws {
        let scratch = try Harness()
        let moto = try AuthenticatingMoto(scratch: scratch.root.path)
        let good = try S3Client(S3Configuration(endpoint: moto.endpoint, credentials: S3Credentials(accessKeyId: moto.accessKeyId, secretAccessKey: moto.secretAccessKey)))
        let bucket = "cov-" + UUID().uuidString.lowercased().prefix(18)
        try good.createBucket(bucket)

        let wrong = try filesHarness()
        let wrongSecret = "s3cov-Wrong-S3cret-7kLm"
        wrong.extraEnvironment["ORCHESTRATOR_LAKE"] = "s3://\(bucket)/lake"
        wrong.extraEnvironment["AWS_ACCESS_KEY_ID"] = moto.accessKeyId
        wrong.extraEnvironment["AWS_SECRET_ACCESS_KEY"] = wrongSecret
        wrong.extraEnvironment["AWS_ENDPOINT_URL"] = moto.endpoint
        let wrongLine = try assertFailsInOneLine(wrong, lake: "s3://\(bucket)/lake", secret: wrongSecret, within: 60)
        XCTAssertTrue(wrongLine.contains("SignatureDoesNotMatch") || wrongLine.lowercased().contains("credentials"), wrongLine)
        XCTAssertEqual(try good.list(bucket: bucket, prefix: "").objects.map(\.key), [], "something was published with wrong credentials")
        // The right key publishes there (so the refusal above was the wrong secret's, not this moto's).
        let right = try filesHarness()
        right.extraEnvironment.merge(wrong.extraEnvironment.merging(["AWS_SECRET_ACCESS_KEY": moto.secretAccessKey]) { $1 }) { $1 }
        let published = try right.run(["backfill", "files", "--start", "2024-01-01", "--end", "2024-01-01"])
        let publishedLog = try right.run(["logs", "files", "extract", "--date", "2024-01-01"]).stdout
        XCTAssertEqual(published.status, 0, published.stderr + publishedLog)
        XCTAssertNotNil(try good.headObject(bucket: bucket, key: "lake/bronze/crm/people/ds=2024-01-01/_manifest.json"))

        let denied = try filesHarness()
        denied.extraEnvironment["ORCHESTRATOR_LAKE"] = "s3://\(AuthenticatingMoto.deniedBucket)/lake"
        denied.extraEnvironment["AWS_ACCESS_KEY_ID"] = moto.accessKeyId
        denied.extraEnvironment["AWS_SECRET_ACCESS_KEY"] = moto.secretAccessKey
        denied.extraEnvironment["AWS_ENDPOINT_URL"] = moto.endpoint
        let deniedLine = try assertFailsInOneLine(denied, lake: "s3://\(AuthenticatingMoto.deniedBucket)/lake", secret: moto.secretAccessKey, within: 60)
        XCTAssertTrue(deniedLine.lowercased().contains("denied"), deniedLine)
    }

    // MARK: Helpers

    /// A one-task DAG (extract.files of a small CSV) whose lake the test points somewhere.
    func filesHarness() throws -> Harness {
        let h = try Harness()
        let input = h.dags.appendingPathComponent("in/2024-01-01")
        try FileManager.default.createDirectory(at: input, withIntermediateDirectories: true)
        try "id,name\n1,a\n2,b\n".write(toFile: input.appendingPathComponent("people.csv").path, atomically: true, encoding: .utf8)
        try h.writeDag("files", """
            dag_id: files
            schedule: "@daily"
            catchup: false
            start_date: 2024-01-01
            tasks:
              - id: extract
                transform: extract.files
                retries: 0
                with: { source: crm, files: ["in/{{ ds }}/people.csv"] }
            """)
        return h
    }

    /// Runs the files DAG for a day: it fails within `seconds`, the task's log has exactly one line naming the
    /// lake, that line says which partition it could not publish, and `secret` is in no output, log, page or file.
    @discardableResult
    func assertFailsInOneLine(_ h: Harness, lake: String, secret: String, within seconds: TimeInterval,
                              file: StaticString = #filePath, line: UInt = #line) throws -> String {
        let started = Date()
        let backfill = try h.run(["backfill", "files", "--start", "2024-01-01", "--end", "2024-01-01"], timeout: seconds + 30)
        let elapsed = Date().timeIntervalSince(started)
        XCTAssertNotEqual(backfill.status, 0, file: file, line: line)
        XCTAssertLessThan(elapsed, seconds, "the task took \(Int(elapsed))s to fail", file: file, line: line)
        XCTAssertEqual(try h.tasks(dag: "files", date: "2024-01-01")["extract"]?["state"] as? String, "failed", file: file, line: line)
        let log = try h.run(["logs", "files", "extract", "--date", "2024-01-01"]).stdout
        let lines = log.split(separator: "\n").filter { $0.contains(lake) }
        XCTAssertEqual(lines.count, 1, log, file: file, line: line)
        let only = String(lines.first ?? "")
        XCTAssertTrue(only.contains("lake \(lake): cannot publish bronze/crm/people/ds=2024-01-01"), only, file: file, line: line)
        let page = try taskPages(h, dag: "files", date: "2024-01-01", tasks: ["extract"])["extract"] ?? ""
        XCTAssertTrue(page.contains("cannot publish bronze/crm/people/ds=2024-01-01"), page, file: file, line: line)
        for (what, text) in [("stdout", backfill.stdout), ("stderr", backfill.stderr), ("log", log), ("page", page)] {
            XCTAssertFalse(text.contains(secret), "the secret key is in the \(what)", file: file, line: line)
        }
        XCTAssertEqual(try filesContaining(secret, under: h.root), [], "the secret key was written to disk", file: file, line: line)
        return only
    }

    func filesContaining(_ needle: String, under root: URL) throws -> [String] {
        let bytes = Data(needle.utf8)
        var found: [String] = []
        for case let url as URL in FileManager.default.enumerator(at: root, includingPropertiesForKeys: [.isRegularFileKey]) ?? .init()
        where (try? url.resourceValues(forKeys: [.isRegularFileKey]))?.isRegularFile == true {
            if let data = try? Data(contentsOf: url), data.range(of: bytes) != nil { found.append(url.path) }
        }
        return found
    }

    /// A loopback port nothing listens on (bound, then closed).
    func closedPort() throws -> Int {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])"]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return try XCTUnwrap(Int(String(decoding: output, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)))
    }

    func json(_ s3: S3LakeBucket, _ key: String) throws -> [String: Any] {
        let object = try XCTUnwrap(try s3.client.getObject(bucket: s3.bucket, key: key, maxBytes: 1 << 24), "no \(key) in the bucket")
        return try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(object.bytes)) as? [String: Any], key)
    }

    func text(_ s3: S3LakeBucket, _ key: String) throws -> String {
        let object = try XCTUnwrap(try s3.client.getObject(bucket: s3.bucket, key: key, maxBytes: 1 << 24), "no \(key) in the bucket")
        return String(decoding: object.bytes, as: UTF8.self)
    }

    /// The web status pages of tasks of the run at `date`, served by a daemon started for them (the DAG paused
    /// first, so that it schedules nothing of its own).
    func taskPages(_ h: Harness, dag: String, date: String, tasks: [String]) throws -> [String: String] {
        let run = try XCTUnwrap(try h.runs(dag: dag).first { ($0["logical_date"] as? String)?.hasPrefix(date) == true }?["run_id"] as? String)
        XCTAssertEqual(try h.run(["dags", "pause", dag]).status, 0)
        try h.startDaemon()
        defer { h.stopDaemon() }
        let base = try XCTUnwrap(h.webURL) + "dags/\(dag)/runs/\(HTTPClient.encoded(run))/tasks/"
        var pages: [String: String] = [:]
        for task in tasks {
            let page = try http.get(base + task)
            XCTAssertEqual(page.status, 200, task)
            pages[task] = page.body
        }
        return pages
    }

    /// A task page's "Results" part: from its heading to the log (empty when the task wrote no results).
    func resultsSection(_ page: String) -> String {
        guard let start = page.range(of: "<h2>Results</h2>")?.upperBound else { return "" }
        let rest = page[start...]
        let end = ["<h2>", "<pre", "<p>"].compactMap { rest.range(of: $0)?.lowerBound }.min() ?? rest.endIndex
        return String(rest[..<end])
    }
}
