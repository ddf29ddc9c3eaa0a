import Foundation
import WorkerCore
import Workflow

/// Where `orchestrator test` keeps its run record and where its tasks write.
struct TestOutputs {
    /// The home the test's scheduler and workers see: store, logs, lock (and, under it, `work`).
    var runHome: HomeLayout
    var lake: String
    var warehouse: String
    var work: String

    /// For a real-home test: a folder of its own under `HOME/test-runs/` (`<dag>-<UTC time>-<pid>`, so tests may
    /// run side by side and the same day may be tested again) holds the run's store and logs; the tasks' lake
    /// and warehouse are the home's (unless ORCHESTRATOR_LAKE / ORCHESTRATOR_WAREHOUSE say otherwise), and the
    /// folder's `work` links to the home's `work/`, where gold.sql keeps the partitions of earlier days. With
    /// `scratch`, everything lives in a fresh temporary home, whatever the environment says.
    /// The workers get the lake and warehouse through the environment, which the scheduler passes on.
    /// A scratch run keeps the warehouse's engine: a DuckDB warehouse becomes `warehouse.duckdb` in the scratch home.
    static func prepare(realHome: HomeLayout, scratch: Bool, dagId: String, lake: String? = nil, warehouse: String? = nil) throws -> TestOutputs {
        let environment = ProcessInfo.processInfo.environment
        func configured(_ name: String) -> String? { environment[name].flatMap { $0.isEmpty ? nil : $0 } }
        if scratch {
            let home = HomeLayout(home: NSTemporaryDirectory() + "orchestrator-test-\(dagId)-\(getpid())")
            let scratchWarehouse = (warehouse ?? "").hasPrefix("duckdb://") ? "duckdb://\(home.home)/warehouse.duckdb" : "sqlite://\(home.home)/warehouse.db"
            let outputs = TestOutputs(runHome: home, lake: "\(home.home)/lake", warehouse: scratchWarehouse,
                                      work: "\(home.home)/work")
            outputs.export()
            return outputs
        }
        let stamp = DateParsing.isoUTC(Date()).replacingOccurrences(of: ":", with: "")
        let testRuns = "\(realHome.home)/test-runs"
        // Each test keeps a folder; without pruning they would pile up forever.
        pruneTestRuns(in: testRuns, keeping: keptTestRuns - 1)
        let runHome = HomeLayout(home: "\(testRuns)/\(dagId)-\(stamp)-\(getpid())")
        let work = "\(realHome.home)/work"
        let link = "\(runHome.home)/work"
        let files = FileManager.default
        do {
            try files.createDirectory(atPath: work, withIntermediateDirectories: true)
            try files.createDirectory(atPath: runHome.home, withIntermediateDirectories: true)
            try files.createSymbolicLink(atPath: link, withDestinationPath: work)
        } catch {
            throw CLIError("cannot prepare \(runHome.home) for the test run: \(error.localizedDescription)")
        }
        let outputs = TestOutputs(runHome: runHome, lake: lake ?? configured("ORCHESTRATOR_LAKE") ?? "\(realHome.home)/lake",
                                  warehouse: warehouse ?? configured("ORCHESTRATOR_WAREHOUSE") ?? "sqlite://\(realHome.home)/warehouse.db", work: work)
        outputs.export()
        return outputs
    }

    /// How many test-run folders `HOME/test-runs/` holds at most, the new one included.
    static let keptTestRuns = 20

    /// Deletes all but the newest `kept` test-run folders (`<dag>-<YYYY-MM-DDTHHMMSSZ>-<pid>`, ordered by that
    /// time); anything else in the folder is left alone. Best effort: a folder that cannot go stays.
    static func pruneTestRuns(in folder: String, keeping kept: Int) {
        let files = FileManager.default
        guard let names = try? files.contentsOfDirectory(atPath: folder) else { return }
        let stamped = names.compactMap { name -> (stamp: String, name: String)? in
            guard let range = name.range(of: #"-\d{4}-\d{2}-\d{2}T\d{6}Z-\d+$"#, options: .regularExpression) else { return nil }
            return (String(name[range].dropFirst().prefix(18)), name)
        }.sorted { ($0.stamp, $0.name) > ($1.stamp, $1.name) }
        for old in stamped.dropFirst(max(0, kept)) { try? files.removeItem(atPath: "\(folder)/\(old.name)") }
    }

    /// The scheduler's workers inherit this process's environment.
    func export() {
        setenv("ORCHESTRATOR_LAKE", lake, 1)
        setenv("ORCHESTRATOR_WAREHOUSE", warehouse, 1)
    }
}
