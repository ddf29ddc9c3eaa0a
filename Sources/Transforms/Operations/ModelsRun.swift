import Foundation

/// `models.run`: a dbt-like project of SQL models built in the warehouse (SQLite) or a named connection
/// (SQLite, PostgreSQL). Options: `project` (the folder, relative to the DAG's), `select` (dbt-like selectors),
/// `target` (a connection name), `full_refresh` (rebuild incremental models whole). See docs/models.md.
public enum ModelsRun: TransformOperation {
    public static let name = "models.run"

    public static func run(_ options: TransformOptions, _ context: TransformContext) throws(TransformError) {
        try options.allowOnly(["project", "select", "target", "full_refresh"])
        let folder = context.resolve(try options.string("project"))
        let engine = try openTarget(try options.optionalString("target"), context: context)
        let project = try ModelProject.load(folder: folder, engine: engine.engine)
        let runner = try ModelRunner(project: project, engine: engine, context: context)
        try runner.run(selection: try options.optionalString("select"), fullRefresh: try options.bool("full_refresh", default: false))
    }

    /// The target's engine: the connection `target` names, else the warehouse.
    static func openTarget(_ target: String?, context: TransformContext) throws(TransformError) -> any ModelEngine {
        let url = try target.map { (name: String) throws(TransformError) -> String in try context.connections.url(name) } ?? context.warehouse
        let what = target.map { "\(name): target connection '\($0)'" } ?? "\(name): the warehouse"
        if url.hasPrefix("postgres://") || url.hasPrefix("postgresql://") { return try PostgresModelEngine(url: url) }
        switch try WarehouseLocation.parse(url, what: what) {
        case .sqlite(let path): return try SQLiteModelEngine(path: context.resolve(path))
        case .duckdb:
            throw TransformError("\(what) is DuckDB, which \(name) does not build on yet: use a SQLite warehouse or a PostgreSQL target (docs/models.md)")
        }
    }

    /// What `orchestrator models list` prints: each model in build order with its folder, materialization and
    /// parents, then seeds and tests.
    public static func describe(project: ModelProject, selection: String?) throws(TransformError) -> String {
        let selected = try ModelGraph.select(selection, in: project.models)
        var lines: [String] = []
        for model in project.models where selected.contains(model.name) {
            let parents = model.references + model.sourceNames.map { "source:\($0)" }
            let config = model.materialized.rawValue + (model.partitionBy.map { " by \($0)" } ?? "")
            lines.append("\(model.folder)/\(model.name)  [\(config)]" + (parents.isEmpty ? "" : "  <- \(parents.joined(separator: ", "))")
                         + (model.tags.isEmpty ? "" : "  tags: \(model.tags.joined(separator: ", "))"))
        }
        if !project.seeds.isEmpty { lines.append("seeds: \(project.seeds.map(\.name).joined(separator: ", "))") }
        let tests = project.tests.filter { test in test.model.map(selected.contains) ?? test.references.contains(where: selected.contains) }
        if !tests.isEmpty {
            lines.append("tests: \(tests.count) (\(tests.filter(\.warnOnly).count) warn)")
            for test in tests { lines.append("  \(test.name)\(test.warnOnly ? " (warn)" : "")") }
        }
        return lines.joined(separator: "\n")
    }
}
