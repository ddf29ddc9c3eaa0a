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
