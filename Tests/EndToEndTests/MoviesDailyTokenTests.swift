import Foundation
import XCTest

/// movies_daily's token: a refused token fails the extract with a reason and stays out of its log; without the
/// connection the DAG calls its base URL with none; under the daemon no page or served log shows it.
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
}
