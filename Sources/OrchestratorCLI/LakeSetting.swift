import Foundation
import WorkerCore

/// Where the lake is, for the commands that run tasks or look after the lake: `--lake`, then `ORCHESTRATOR_LAKE`
/// or `lake:` in the configuration (the environment wins, as for every key), then `HOME/lake`.
enum LakeSetting {
    static func resolve(flag: String?, _ configuration: Configuration?, home: HomeLayout) -> String {
        let configured = configuration?.value("lake") ?? ProcessInfo.processInfo.environment["ORCHESTRATOR_LAKE"] ?? ""
        let url = flag.flatMap { $0.isEmpty ? nil : $0 } ?? (configured.isEmpty ? "\(home.home)/lake" : configured)
        // A relative folder means the one the command was started in, not each DAG's folder.
        return url.contains("://") ? url : GlobalOptions.absolute(url)
    }
}

/// Where the warehouse is, for the commands that run tasks: `ORCHESTRATOR_WAREHOUSE` or `warehouse:` in the
/// configuration (the environment wins), else nil (tasks use `sqlite://HOME/warehouse.db`).
enum WarehouseSetting {
    static func resolve(_ configuration: Configuration?) -> String? {
        let configured = configuration?.value("warehouse") ?? ProcessInfo.processInfo.environment["ORCHESTRATOR_WAREHOUSE"] ?? ""
        guard !configured.isEmpty else { return nil }
        // A relative path means the folder the command was started in, not each DAG's folder.
        for scheme in ["sqlite://", "duckdb://"] where configured.hasPrefix(scheme) {
            return scheme + GlobalOptions.absolute(String(configured.dropFirst(scheme.count)))
        }
        return configured
    }
}
