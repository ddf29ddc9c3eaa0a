import Foundation
import XCTest

/// movies_daily's API client: a refused token fails the extract with a reason and stays out of its log; without the
/// connection the DAG calls its base URL with none; under the daemon no page or served log shows the token; the
/// details calls stay under the API's per-second limit.
final class MoviesDailyTokenTests: XCTestCase {
    var standIn: MoviesStandIn?

    override func tearDown() { standIn?.stop() }

    func testAWrongTokenFailsTheExtractWithAReasonAndNoTokenInTheLog() throws {
        let standIn = try MoviesStandIn(token: MoviesDailyTests.token)
        self.standIn = standIn
        let h = try MoviesDailyTests.harness(standIn: standIn)
        h.extraEnvironment["ORCHESTRATOR_CONN_TMDB"] = "http://wrong-token-123@127.0.0.1:\(standIn.port)/3"
        let result = try h.run(["test", "movies_daily", "--date", "2024-03-01"])
        XCTAssertNotEqual(result.status, 0)
        let log = try String(contentsOfFile: try MoviesDailyTests.taskLog(result, task: "discover", day: "2024-03-01"), encoding: .utf8)
        XCTAssertTrue(log.contains("failed: HTTP 401 (the token is missing or refused: check the connection)"), log)
        XCTAssertFalse(log.contains("wrong-token-123") || result.stdout.contains("wrong-token-123"))
    }

    func testWithoutTheConnectionTheDAGCallsItsBaseURLWithNoToken() throws {
        let standIn = try MoviesStandIn(token: nil, arguments: MoviesDailyTests.catalog)
        self.standIn = standIn
        let h = try MoviesDailyTests.harness(standIn: standIn)
        h.extraEnvironment["ORCHESTRATOR_CONN_TMDB"] = nil
        let result = try h.run(["test", "movies_daily", "--date", "2024-03-01", "--param", "pages=1", "--param", "base_url=\(standIn.baseURL)"])
        XCTAssertEqual(result.status, 0, String(result.stdout.suffix(3000)))
        XCTAssertTrue(result.stdout.contains("extract.http: \(standIn.baseURL)/discover/movie"), String(result.stdout.suffix(3000)))
    }

    func testUnderTheDaemonTheTokenReachesNoPageOrServedLog() throws {
        let standIn = try MoviesStandIn(token: MoviesDailyTests.token, arguments: MoviesDailyTests.catalog + ["--throttle-every", "13"])
        self.standIn = standIn
        let h = try MoviesDailyTests.harness(standIn: standIn)
        try h.startDaemon()
        XCTAssertEqual(try h.run(["trigger", "movies_daily", "--date", "2024-03-01", "--param", "pages=1"]).status, 0)
        // The daemon also schedules the DAG's latest day; this test reads the triggered run.
        func state() throws -> String? {
            try h.runs(dag: "movies_daily").first { $0["run_id"] as? String == "manual__2024-03-01T00:00:00Z" }?["state"] as? String
        }
        try h.waitFor("the movies_daily run", timeout: 90) { ["success", "failed"].contains(try state() ?? "") }
        let tasks = try h.tasks(dag: "movies_daily", date: "2024-03-01")
        XCTAssertEqual(try state(), "success", "\(tasks)")
        let base = try XCTUnwrap(h.webURL, h.daemonLogText)
        let http = HTTPClient()
        let run = HTTPClient.encoded("manual__2024-03-01T00:00:00Z")
        var pages = [base, base + "dags/movies_daily", base + "api/v1/dags/movies_daily/runs/\(run)/tasks"]
        for task in ["migrate_warehouse", "migrate_postgres", "discover", "details", "genres", "tables", "load_warehouse", "load_postgres"] {
            pages += [base + "dags/movies_daily/runs/\(run)/tasks/\(task)", base + "api/v1/dags/movies_daily/runs/\(run)/tasks/\(task)/logs/1"]
        }
        var served = ""
        for page in pages {
            let reply = try http.get(page)
            XCTAssertEqual(reply.status, 200, page)
            XCTAssertFalse(reply.body.contains(MoviesDailyTests.token), "the token is on \(page)")
            served += reply.body
        }
        XCTAssertTrue(served.contains("HTTP 429; retry 1 of 5"), "the served logs hold the retried requests")
        XCTAssertFalse(h.daemonLogText.contains(MoviesDailyTests.token))
    }

    func testTheDetailsCallsStayUnderTheAPIsRateLimit() throws {
        // The stand-in answers 429 past 30 requests in a second; the DAG spaces its requests to 20 a second.
        let standIn = try MoviesStandIn(token: MoviesDailyTests.token, arguments: MoviesDailyTests.catalog + ["--rate-limit", "30"])
        self.standIn = standIn
        let h = try MoviesDailyTests.harness(standIn: standIn)
        let dag = h.dags.appendingPathComponent("movies_daily.yaml")
        try (try String(contentsOf: dag, encoding: .utf8)).replacingOccurrences(of: "requests_per_second: 200", with: "requests_per_second: 20")
            .write(to: dag, atomically: true, encoding: .utf8)
        let started = Date()
        let result = try h.run(["test", "movies_daily", "--date", "2024-03-01", "--param", "pages=2"])
        XCTAssertEqual(result.status, 0, String(result.stdout.suffix(3000)))
        XCTAssertFalse(result.stdout.contains("HTTP 429"), String(result.stdout.suffix(3000)))
        let manifest = try JSONSerialization.jsonObject(with: Data(contentsOf: h.home.appendingPathComponent("lake/bronze/tmdb/details/ds=2024-03-01/_manifest.json"))) as? [String: Any]
        XCTAssertEqual(manifest?["retries"] as? Int, 0)
        let ids = try XCTUnwrap(manifest?["ids"] as? Int)
        XCTAssertGreaterThan(ids, 35)
        // 4 workers, one spacing: about ids / 20 seconds, not ids / 80.
        XCTAssertGreaterThan(Date().timeIntervalSince(started), Double(ids) / 20 - 0.5)
    }

    func testDetailsThatMostlyAnswer404FailTheStep() throws {
        let standIn = try MoviesStandIn(token: MoviesDailyTests.token, arguments: MoviesDailyTests.catalog)
        self.standIn = standIn
        let h = try MoviesDailyTests.harness(standIn: standIn)
        let dag = h.dags.appendingPathComponent("movies_daily.yaml")
        // A wrong details path: no id exists there.
        try (try String(contentsOf: dag, encoding: .utf8)).replacingOccurrences(of: "/movie/{id}?", with: "/movie/9{id}9?")
            .write(to: dag, atomically: true, encoding: .utf8)
        let result = try h.run(["test", "movies_daily", "--date", "2024-03-01", "--param", "pages=1"])
        XCTAssertNotEqual(result.status, 0)
        let log = try String(contentsOfFile: try MoviesDailyTests.taskLog(result, task: "details", day: "2024-03-01"), encoding: .utf8)
        XCTAssertTrue(log.contains("ids answered 404") && log.contains("more than half, so the step fails"), log)
        XCTAssertFalse(FileManager.default.fileExists(atPath: h.home.appendingPathComponent("lake/bronze/tmdb/details/ds=2024-03-01").path))
    }
}
