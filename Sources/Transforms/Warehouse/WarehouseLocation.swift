import Foundation

/// Where a warehouse or a gold work database lives, read from its URL: `sqlite:///path` or
/// `duckdb:///path/analytics.duckdb` (a relative path is relative to the DAG's folder, the task's directory).
enum WarehouseLocation: Equatable {
    case sqlite(path: String)
    case duckdb(path: String)

    static func parse(_ url: String, what: String) throws(TransformError) -> WarehouseLocation {
        if url.hasPrefix("sqlite://") { return .sqlite(path: try path(url, scheme: "sqlite://", what: what)) }
        if url.hasPrefix("duckdb://") { return .duckdb(path: try path(url, scheme: "duckdb://", what: what)) }
        throw TransformError("\(what) \(Connections.redacted(url)) is neither sqlite:///path nor duckdb:///path (PostgreSQL is load.postgres's)")
    }

    private static func path(_ url: String, scheme: String, what: String) throws(TransformError) -> String {
        let path = String(url.dropFirst(scheme.count))
        guard !path.isEmpty else { throw TransformError("\(what) \(url) names no file (\(scheme)/path/to/file)") }
        return path
    }

    var path: String {
        switch self {
        case .sqlite(let path), .duckdb(let path): return path
        }
    }

    var engine: String {
        switch self {
        case .sqlite: return "sqlite"
        case .duckdb: return "duckdb"
        }
    }

    /// The gold work database: the `database` option of gold.sql (a URL, or a path: `.duckdb` means DuckDB),
    /// else one per DAG under `$ORCHESTRATOR_HOME/work/` on the warehouse's engine, so a DuckDB warehouse
    /// computes its models in DuckDB too.
    static func work(option: String?, context: TransformContext) throws(TransformError) -> WarehouseLocation {
        if let option {
            if option.contains("://") { return try parse(option, what: "gold.sql option 'database'") }
            let path = context.resolve(option)
            return path.hasSuffix(".duckdb") ? .duckdb(path: path) : .sqlite(path: path)
        }
        if case .duckdb = try? parse(context.warehouse, what: "the warehouse") {
            return .duckdb(path: (context.workDatabase as NSString).deletingPathExtension + ".duckdb")
        }
        return .sqlite(path: context.workDatabase)
    }
}
