import Foundation

/// One models.run: loads the sources and changed seeds, builds the selected models in dependency order (a model
/// whose parent failed is skipped; independent ones still build), runs their tests, and reports every model, row
/// count and test in the attempt's result.json. Fails when a model or an error-severity test failed.
struct ModelRunner {
    let project: ModelProject
    let engine: any ModelEngine
    let context: TransformContext
    let compiler: ModelCompiler
    let builder: ModelBuilder

    /// Failing rows shown per test, in the log and on the task page.
    static let sampleRows = 10

    init(project: ModelProject, engine: any ModelEngine, context: TransformContext) throws(TransformError) {
        self.project = project
        self.engine = engine
        self.context = context
        try TransformContext.checkDS(context.ds)
        let start = DateFields.isoUTC(epochSeconds: Int(context.dataIntervalStart.timeIntervalSince1970))
        let end = DateFields.isoUTC(epochSeconds: Int(context.dataIntervalEnd.timeIntervalSince1970))
        compiler = ModelCompiler(project: project, placeholder: engine.placeholder,
                                 values: ["ds": context.ds, "data_interval_start": start, "data_interval_end": end])
        builder = ModelBuilder(engine: engine, compiler: compiler, context: context,
                               interval: (String(start.prefix(10)), String(end.prefix(10)), start, end))
    }

    enum Status: String { case success, error, skipped, ephemeral, notSelected = "not_selected" }

    struct TestResult {
        let name: String
        let outcome: String
        let failingRows: Int
    }

    func run(selection: String?, fullRefresh: Bool, export: [String] = []) throws(TransformError) {
        let selected = try ModelGraph.select(selection, in: project.models)
        let log = context.log
        log("\(ModelsRun.name): project \(project.folder) on \(engine.engine) \(engine.displayName): \(project.models.count) models, "
            + "\(selected.count) selected" + (selection.map { " (--select \($0))" } ?? ""))
        let seedLoader = SeedLoader(engine: engine, log: log)
        for seed in project.seeds { try seedLoader.load(seed) }
        let sourceLoader = SourceLoader(engine: engine, context: context)
        var sources: [SQLTemplate.SourceReference] = []
        for model in project.models where selected.contains(model.name) || model.materialized == .ephemeral {
            for source in model.sources where !sources.contains(source) { sources.append(source) }
        }
        for source in sources { _ = try sourceLoader.load(source) }

        // On PostgreSQL, rebuilding a relation drops the views over it (CASCADE): remember which exist.
        var existingViews: Set<String> = []
        for model in project.models where model.materialized == .view {
            if try engine.relationKind(model.name) == "view" { existingViews.insert(model.name) }
        }
        var status: [String: Status] = [:]
        var rows: [String: Int] = [:]
        var failures: [String] = []
        for model in project.models {
            if model.materialized == .ephemeral { status[model.name] = .ephemeral; continue }
            guard selected.contains(model.name) else { status[model.name] = .notSelected; continue }
            if let parent = model.references.first(where: { status[$0] == .error || status[$0] == .skipped }) {
                status[model.name] = .skipped
                log("\(ModelsRun.name): SKIP \(model.name): its parent \(parent) did not build")
                continue
            }
            let started = Date()
            do {
                rows[model.name] = try builder.build(model, fullRefresh: fullRefresh)
                status[model.name] = .success
                context.results.output(model.name, rows: rows[model.name])
                log("\(ModelsRun.name): OK \(model.folder)/\(model.name) (\(model.materialized.rawValue)) → \(rows[model.name] ?? 0) rows in "
                    + String(format: "%.2fs", Date().timeIntervalSince(started)))
            } catch {
                status[model.name] = .error
                let message = "\(ModelsRun.name): model \(model.name) (\(model.file)): \(error.description)"
                failures.append("model \(model.name)")
                log("ERROR " + message)
                context.results.problem("model_error", severity: "error", message: message, details: ["model": model.name, "file": model.file])
            }
        }
        try rebuildDroppedViews(existingViews, status: status)

        var testResults: [String: [TestResult]] = [:]
        for test in project.tests {
            let attached = test.model.map { [$0] } ?? test.references
            let isSelected = selection == nil || attached.contains(where: selected.contains)
            guard isSelected, !attached.isEmpty || test.model == nil else { continue }
            if let broken = test.references.first(where: { [.error, .skipped].contains(status[$0]) }) {
                log("\(ModelsRun.name): SKIP test \(test.name): \(broken) did not build")
                continue
            }
            let result = try runTest(test)
            for model in attached { testResults[model, default: []].append(result) }
            if result.outcome == "fail" { failures.append("test \(test.name)") }
        }
        failures += exportModels(export, status: status, failedTests: Set(failures))
        for model in project.models {
            context.results.model([
                "name": model.name, "folder": model.folder, "materialized": model.materialized.rawValue,
                "depends_on": model.references, "sources": model.sourceNames,
                "status": (status[model.name] ?? .notSelected).rawValue,
                "rows": rows[model.name].map { $0 as Any } ?? NSNull(),
                "tests": (testResults[model.name] ?? []).map { ["name": $0.name, "outcome": $0.outcome, "failing_rows": $0.failingRows] },
            ])
        }
        guard failures.isEmpty else {
            throw TransformError("\(ModelsRun.name): \(failures.count) failure\(failures.count == 1 ? "" : "s"): \(failures.joined(separator: ", "))")
        }
        log("\(ModelsRun.name): done: \(status.values.filter { $0 == .success }.count) models built, tests passed or warned")
    }

    /// Publishes each exported model that built, and whose error tests passed, as the run's gold partition in
    /// the lake: an incremental model's rows of the run's interval, all rows of a table or view. A model that
    /// failed (or was skipped, or not selected) exports nothing, so the lake keeps its previous partition.
    /// Returns the exports that failed (reported like a model that failed, after the others were tried).
    func exportModels(_ export: [String], status: [String: Status], failedTests: Set<String>) -> [String] {
        var failures: [String] = []
        for model in project.models where export.contains(model.name) {
            guard status[model.name] == .success else {
                context.log("\(ModelsRun.name): not exporting \(model.name): \((status[model.name] ?? .notSelected).rawValue)")
                continue
            }
            if let failed = project.tests.first(where: { !$0.warnOnly && ($0.model == model.name || $0.references.contains(model.name))
                                                         && failedTests.contains("test \($0.name)") }) {
                context.log("\(ModelsRun.name): not exporting \(model.name): test \(failed.name) failed")
                continue
            }
            let incremental = model.materialized == .incremental
            let filter = incremental ? model.partitionBy.map { column in
                (sql: builder.inInterval(TableLoader.quote(column), first: 1),
                 parameters: builder.intervalBounds as [String?])
            } : nil
            do {
                let rows = try engine.exportGold(model.name, partitioned: incremental, filter: filter, context: context)
                context.results.output("gold/\(model.name)/ds=\(context.ds)", rows: rows)
                context.log("\(ModelsRun.name): exported \(model.name) → gold/\(model.name)/ds=\(context.ds) (\(rows) rows\(incremental ? " of the interval" : ""))")
            } catch {
                let message = "\(ModelsRun.name): exporting \(model.name) to gold/\(model.name)/ds=\(context.ds): \(error.description)"
                failures.append("export \(model.name)")
                context.log("ERROR " + message)
                context.results.problem("model_error", severity: "error", message: message, details: ["model": model.name, "file": model.file])
            }
        }
        return failures
    }

    /// Views over a rebuilt relation that PostgreSQL dropped with it, and which this run did not rebuild itself.
    func rebuildDroppedViews(_ existed: Set<String>, status: [String: Status]) throws(TransformError) {
        for model in project.models where existed.contains(model.name) && status[model.name] == .notSelected {
            guard try engine.relationKind(model.name) == nil else { continue }
            context.log("\(ModelsRun.name): rebuilding view \(model.name), dropped with a relation it reads")
            _ = try builder.build(model, fullRefresh: false)
        }
    }

    /// Runs one test; logs it with up to 10 failing rows, and reports a failure or warning on the task page.
    func runTest(_ test: ModelTest) throws(TransformError) -> TestResult {
        let compiled = try compiler.compile(test.template, where: test.origin, literals: false)
        let where_ = "\(ModelsRun.name): test \(test.name) (\(test.origin))"
        let count: Int
        let sample: (columns: [String], rows: [[String?]])
        do {
            count = Int(try engine.scalar("SELECT COUNT(*) FROM (\n\(compiled.sql)\n) AS failing", compiled.parameters) ?? "") ?? 0
            // The sample runs the test's query again: only for a test that found rows (on 1M events a passing
            // test would pay its scan twice).
            sample = count == 0 ? ([], []) : try engine.query(compiled.sql, compiled.parameters, limit: Self.sampleRows)
        } catch {
            throw TransformError("\(where_): \(error.description)")
        }
        let models = test.model.map { [$0] } ?? test.references
        let subject = models.isEmpty ? "" : " on \(models.joined(separator: ", "))"
        context.results.check(test.name, outcome: count == 0 ? "pass" : (test.warnOnly ? "warn" : "fail"), failingRows: count)
        guard count > 0 else {
            context.log("\(ModelsRun.name): PASS \(test.name)\(subject)")
            return TestResult(name: test.name, outcome: "pass", failingRows: 0)
        }
        let outcome = test.warnOnly ? "warn" : "fail"
        let message = "\(ModelsRun.name): test \(test.name)\(subject) \(test.warnOnly ? "warns" : "failed"): \(count) failing row\(count == 1 ? "" : "s")"
        context.log((test.warnOnly ? "WARN " : "FAIL ") + message)
        context.log("    " + sample.columns.joined(separator: " | "))
        for row in sample.rows { context.log("    " + row.map { $0 ?? "NULL" }.joined(separator: " | ")) }
        context.results.problem("model_test", severity: test.warnOnly ? "warning" : "error", message: message, details: [
            "model": test.model ?? test.references.joined(separator: ", "), "test": test.name, "failing_rows": count,
            "columns": sample.columns, "rows": sample.rows.map { $0.map { $0.map { $0 as Any } ?? NSNull() } },
        ])
        return TestResult(name: test.name, outcome: outcome, failingRows: count)
    }
}
