import Executor
import PostgresAttemptStore
import SQLiteAttemptStore
import StoreAddress
import WorkerCore
#if canImport(Glibc)
import Glibc
#endif

// orchestrator-worker-postgres ATTEMPT-SPEC-ARGUMENTS…
//   The worker for a PostgreSQL store that opens the store itself: orchestrator-worker's entry point with
//   PostgresAttemptStore beside SQLite's. orchestrator-worker runs this when no daemon passed it an attempt channel.
// orchestrator-worker-postgres --serve-attempt-store STORE-URL
//   The fallback helper of an orchestrator-worker whose daemon is gone: answers its attempt channel (descriptor 3)
//   with its own connection until the worker closes it (docs/decisions/0016).
// It links no Foundation either, but libpq dynamically (it cannot be linked statically here), so it is a binary of its
// own and orchestrator-worker stays fully static (docs/decisions/0007-postgres-store.md).
func fail(_ message: String, code: Int32) -> Never {
    let bytes = Array("orchestrator-worker-postgres: \(message)\n".utf8)
    _ = bytes.withUnsafeBytes { write(2, $0.baseAddress, bytes.count) }
    exit(code)
}

// The worker's environment holds the connections granted to its task and the store's password: tasks of other DAGs,
// same user, must not read them from /proc/<worker>/environ. (The task itself is dumpable again after its exec.)
guard ProcessSecrets.makeNonDumpable() else {
    fail("cannot make this process non-dumpable (prctl PR_SET_DUMPABLE failed): refusing to hold the store's password", code: 71)
}

let arguments = Array(CommandLine.arguments.dropFirst())
if arguments.first == "--serve-attempt-store" {
    guard arguments.count == 2 else { fail("usage: orchestrator-worker-postgres --serve-attempt-store STORE-URL", code: 64) }
    let url: StoreURL
    do {
        url = try StoreURL.parse(arguments[1])
    } catch {
        fail(error.description, code: 64)
    }
    AttemptChannelServer.serve(AttemptChannel.childDescriptor) { () throws(AttemptStoreError) -> any AttemptStore in
        try PostgresAttemptStore(url: url, applicationName: "orchestrator worker (fallback)")
    }
    exit(0)
}

let spec: AttemptSpec
do {
    spec = try AttemptSpec(arguments: arguments)
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
    // The store's password came in PGPASSWORD for libpq (which keeps it for reconnecting): a task never sees it, in
    // its environment or in /proc/<worker>/environ (unsetenv leaves the initial block). Only the external_task
    // sensor's `orchestrator sense` (this project's code) reads the store, so it alone keeps it, and scrubs it
    // itself once connected.
    let readsStore = spec.sensor != nil && Array(spec.argv.dropFirst().prefix(2)) == ["sense", "external_task"]
    if !readsStore {
        ProcessSecrets.scrubEnvironment { name, _ in name == "PGPASSWORD" || name == StoreURL.sslPasswordVariable }
    }
    exit(AttemptRunner(spec: spec, store: store).run())
} catch {
    fail(error.description, code: 2)
}
