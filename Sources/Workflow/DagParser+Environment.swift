extension DagParser {
    /// Why a task's `env:` may not set `name`, or nil when it may. A task's variables apply after the ones the worker
    /// sets, so without this a sensor could point ORCHESTRATOR_STORE (and with it the store's password) at another
    /// host, a PG* variable could redirect libpq, and LD_* could load code into `orchestrator sense`.
    static func reservedEnvironmentReason(_ name: String) -> String? {
        if name == "ORCHESTRATOR_STORE" || name.hasPrefix("PG") || name.hasPrefix("LD_") {
            return "'\(name)' is reserved: a task may not set ORCHESTRATOR_STORE, PG* or LD_* variables"
        }
        return nil
    }
}
