import Foundation

/// The DAGs the daemon has loaded, their paused flags, and the files that failed to load.
public protocol DagStore: Sendable {
    /// Records the DAGs currently loaded (new ones start unpaused) and the files that failed to load.
    func syncDags(_ dags: [(dagId: String, fileLocation: String)], importErrors: [String: String], at time: Date) throws
    func dags() throws -> [DagRecord]
    /// Makes one DAG known to the store (unpaused if new) without touching the others, for CLI commands
    /// that act on a DAG before a daemon has loaded it.
    func registerDag(dagId: String, fileLocation: String, at time: Date) throws
    /// Returns false when the DAG is unknown to the store.
    func setPaused(dagId: String, paused: Bool) throws -> Bool
    func importErrors() throws -> [String: String]
}
