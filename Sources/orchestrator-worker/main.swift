import Executor
import SQLiteAttemptStore
import StoreAddress
import WorkerCore
#if canImport(Glibc)
import Glibc
#endif

// orchestrator-worker ATTEMPT-SPEC-ARGUMENTS…
// Started by the scheduler once per task attempt; see AttemptRunner. Links no Foundation, to start fast.
func fail(_ message: String, code: Int32) -> Never {
    let bytes = Array("orchestrator-worker: \(message)\n".utf8)
    _ = bytes.withUnsafeBytes { write(2, $0.baseAddress, bytes.count) }
    exit(code)
}

// The worker's environment holds the connections granted to its task: tasks of other DAGs, same user, must not
// read them from /proc/<worker>/environ. (The task itself is dumpable again after its exec.)
ProcessSecrets.makeNonDumpable()

let spec: AttemptSpec
do {
    spec = try AttemptSpec(arguments: Array(CommandLine.arguments.dropFirst()))
} catch {
    fail("\(error.description) (this program is started by the orchestrator scheduler)", code: 64)
}
/// The attempt stores built into this worker, by URL scheme: a backend adds its opener here.
let attemptStores: [StoreURL.Backend: (StoreURL) throws(AttemptStoreError) -> any AttemptStore] = [
    .sqlite: { url throws(AttemptStoreError) in try SQLiteAttemptStore(path: url.path ?? "") },
]

let url: StoreURL
do {
    url = try StoreURL.parse(spec.storeURL)
} catch {
    fail(error.description, code: 64)
}
guard let openStore = attemptStores[url.backend] else {
    fail("store \(url): \(url.backend == .postgres ? "PostgreSQL" : url.backend.rawValue) store not built in this binary yet", code: 2)
}
do {
    let store = try openStore(url)
    exit(AttemptRunner(spec: spec, store: store).run())
} catch {
    fail(error.description, code: 2)
}
