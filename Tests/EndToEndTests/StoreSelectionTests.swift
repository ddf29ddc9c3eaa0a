import Foundation
import XCTest

/// Which metadata store a command uses: --store, ORCHESTRATOR_STORE or `store:`, else the home's SQLite file.
final class StoreSelectionTests: XCTestCase {
    private func writeSensorDag(_ h: Harness) throws {
        // A sensor reads the store too (external_task): it must find the one its scheduler uses.
        try h.writeDag("upstream", """
            dag_id: upstream
            schedule: "@daily"
            start_date: 2024-01-01
            tasks:
              - id: stamp
                command: "echo stamped"
            """)
        try h.writeDag("downstream", """
            dag_id: downstream
            schedule: "@daily"
            start_date: 2024-01-01
            tasks:
              - id: wait
                sensor: { external_task: { dag: upstream, task: stamp }, poke_interval: 1s, timeout: 60s }
            """)
    }

    func testAStoreURLIsUsedByCommandsWorkersAndSensors() throws {
        let h = try Harness()
        try writeSensorDag(h)
        let storeFile = h.path("elsewhere/metadata.db")
        let flag = ["--store", "sqlite://" + storeFile]
        // The flag only (not the environment, which tasks would inherit): workers and sensors get it from the scheduler.
        let upstream = try h.run(["backfill", "upstream", "--start", "2024-01-01", "--end", "2024-01-01"] + flag)
        XCTAssertEqual(upstream.status, 0, upstream.stderr)
        let downstream = try h.run(["backfill", "downstream", "--start", "2024-01-01", "--end", "2024-01-01"] + flag)
        XCTAssertEqual(downstream.status, 0, downstream.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: storeFile))
        XCTAssertFalse(FileManager.default.fileExists(atPath: h.home.appendingPathComponent("orchestrator.db").path),
                       "nothing was written to the home's default store")

        // ORCHESTRATOR_STORE names the same store; --store wins over it.
        h.extraEnvironment["ORCHESTRATOR_STORE"] = "sqlite://" + storeFile
        XCTAssertEqual(try h.runStates(dag: "upstream"), ["success"])
        XCTAssertEqual(try h.runStates(dag: "downstream"), ["success"], "the sensor saw upstream's task in the same store")
        let other = try h.run(["runs", "list", "--dag", "upstream", "--json", "--store", "sqlite://" + h.path("empty.db")])
        XCTAssertEqual(other.status, 0, other.stderr)
        XCTAssertEqual(try JSONSerialization.jsonObject(with: Data(other.stdout.utf8)) as? [[String: String]], [])
    }

    func testTheConfigurationFileNamesTheStore() throws {
        let h = try Harness()
        let storeFile = h.path("configured.db")
        let config = h.path("orchestrator.yaml")
        try "store: sqlite://\(storeFile)\n".write(toFile: config, atomically: true, encoding: .utf8)
        let result = try h.run(["pools", "set", "warehouse", "3", "--config", config])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: storeFile))
        let check = try h.run(["config", "check", "--config", config])
        XCTAssertTrue(check.stdout.contains("sqlite://\(storeFile)"), check.stdout)
    }

    func testAStoreThatCannotBeUsedIsOneLineWithoutThePassword() throws {
        let h = try Harness()
        for (url, expected) in [("postgres://orch:hunter2@127.0.0.1:1/metadata", "postgres://orch:***@127.0.0.1:1/metadata"),
                                ("mysql://orch:hunter2@127.0.0.1/metadata", "unknown store scheme 'mysql'")] {
            let result = try h.run(["dags", "list", "--store", url])
            XCTAssertNotEqual(result.status, 0, url)
            XCTAssertTrue(result.stderr.contains(expected), "\(url): \(result.stderr)")
            XCTAssertFalse(result.stderr.contains("hunter2"), result.stderr)
            XCTAssertEqual(result.stderr.split(separator: "\n").filter { $0.hasPrefix("Error:") }.count, 1, result.stderr)
        }
    }
}
