import Foundation

/// `models.run`: a dbt-like project of SQL models built in the warehouse (SQLite) or a named connection
/// (SQLite, PostgreSQL). Options: `project` (the folder, relative to the DAG's), `select` (dbt-like selectors),
/// `target` (a connection name), `full_refresh` (rebuild incremental models whole), `export` (models whose rows
/// of the run are published to the lake's gold partition, for load.postgres / load.warehouse). See docs/models.md.
public enum ModelsRun: TransformOperation {
    public static let name = "models.run"

    public static func run(_ options: TransformOptions, _ context: TransformContext) throws(TransformError) {
        try options.allowOnly(["project", "select", "target", "full_refresh", "export"])
        let folder = context.resolve(try options.string("project"))
        let engine = try openTarget(try options.optionalString("target"), context: context)
        let project = try ModelProject.load(folder: folder, engine: engine.engine)
        let export = try options.strings("export")
        try checkExport(export, project: project, engine: engine)
        let runner = try ModelRunner(project: project, engine: engine, context: context)
        try runner.run(selection: try options.optionalString("select"), fullRefresh: try options.bool("full_refresh", default: false),
                       export: export)
    }

    /// Before anything runs: every exported model exists and is built (not ephemeral), on a SQLite target.
    static func checkExport(_ export: [String], project: ModelProject, engine: any ModelEngine) throws(TransformError) {
        guard !export.isEmpty else { return }
        guard engine.engine == "sqlite" else {
            throw TransformError("\(name): option 'export' needs a SQLite target (the warehouse); \(engine.displayName) is \(engine.engine), read the models there")
        }
        for modelName in export {
            guard let model = project.models.first(where: { $0.name == modelName }) else {
                throw TransformError("\(name): option 'export' names \(modelName), which is not a model of \(project.folder) "
                                     + "(models: \(project.models.map(\.name).joined(separator: ", ")))")
            }
            guard model.materialized != .ephemeral else {
                throw TransformError("\(name): option 'export' names \(modelName), an ephemeral model, which is never built")
            }
        }
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
