import Executor
import PostgresAttemptStore
import SQLiteAttemptStore
import StoreAddress
import WorkerCore
#if canImport(Glibc)
import Glibc
#endif

// orchestrator-worker-postgres ATTEMPT-SPEC-ARGUMENTS…
// The worker for a PostgreSQL store: orchestrator-worker's entry point with PostgresAttemptStore beside SQLite's. It
// links no Foundation either, but libpq dynamically (it cannot be linked statically here), so it is a binary of its
// own and orchestrator-worker stays fully static (docs/decisions/0007-postgres-store.md).
func fail(_ message: String, code: Int32) -> Never {
    let bytes = Array("orchestrator-worker-postgres: \(message)\n".utf8)
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
let attemptStores: [StoreURL.Backend: (StoreURL) throws(AttemptStoreError) -> any AttemptStore] = [
    .sqlite: { url throws(AttemptStoreError) in try SQLiteAttemptStore(path: url.path ?? "") },
    .postgres: { url throws(AttemptStoreError) in try PostgresAttemptStore(url: url) },
]

let url: StoreURL
do {
    url = try StoreURL.parse(spec.storeURL)
} catch {
    fail(error.description, code: 64)
}
guard let openStore = attemptStores[url.backend] else { fail("store \(url): no attempt store for it in this binary", code: 2) }
do {
    let store = try openStore(url)
    // The store's password came in PGPASSWORD for libpq: a task never sees it. A sensor's task is `orchestrator sense`
    // (this project's code, not the DAG author's), which reads the store itself and so keeps it.
    if spec.sensor == nil { unsetenv("PGPASSWORD") }
    exit(AttemptRunner(spec: spec, store: store).run())
} catch {
    fail(error.description, code: 2)
}
