import Executor
import SQLiteAttemptStore
import StoreAddress
import WorkerCore
#if canImport(Glibc)
import Glibc
#endif

// orchestrator-worker ATTEMPT-SPEC-ARGUMENTS…
// Started by the scheduler once per task attempt; see AttemptRunner. Links no Foundation, to start fast. On SQLite it
// writes the store itself; on PostgreSQL it sends its writes to its daemon over the attempt channel and, if the daemon
// is gone, to a helper it starts (orchestrator-worker-postgres, which links libpq) — docs/decisions/0016.
func fail(_ message: String, code: Int32) -> Never {
    let bytes = Array("orchestrator-worker: \(message)\n".utf8)
    _ = bytes.withUnsafeBytes { write(2, $0.baseAddress, bytes.count) }
    exit(code)
}

// The worker's environment holds the connections granted to its task and, on PostgreSQL, the store's password (for
// the fallback): tasks of other DAGs, same user, must not read them from /proc/<worker>/environ. (The task itself is
// dumpable again after its exec.)
let nonDumpable = ProcessSecrets.makeNonDumpable()

let spec: AttemptSpec
do {
    spec = try AttemptSpec(arguments: Array(CommandLine.arguments.dropFirst()))
} catch {
    fail("\(error.description) (this program is started by the orchestrator scheduler)", code: 64)
}

let url: StoreURL
do {
    url = try StoreURL.parse(spec.storeURL)
} catch {
    fail(error.description, code: 64)
}
/// The PostgreSQL worker installed beside this one: the whole attempt when no channel was given, else the fallback.
let postgresWorker: String = {
    let own = SystemInfo.executablePath ?? CommandLine.arguments[0]
    let folder = own.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
    return (folder.isEmpty ? "." : folder) + "/orchestrator-worker-postgres"
}()

let store: any AttemptStore
switch url.backend {
case .sqlite:
    do {
        store = try SQLiteAttemptStore(path: url.path ?? "")
    } catch {
        fail(error.description, code: 2)
    }
case .postgres:
    guard let channel = spec.channel else {
        // No daemon answers for the store: the worker that opens it itself (same pid, environment and arguments).
        let arguments = [postgresWorker] + Array(CommandLine.arguments.dropFirst())
        var pointers: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        execv(postgresWorker, &pointers)
        fail("cannot start \(postgresWorker): \(String(cString: strerror(errno)))", code: 2)
    }
    guard nonDumpable else {
        fail("cannot make this process non-dumpable (prctl PR_SET_DUMPABLE failed): refusing to hold the store's password", code: 71)
    }
    // Kept in memory for the fallback helper only; out of the environment (and /proc/<worker>/environ) before the
    // task starts. The external_task sensor's `orchestrator sense` (this project's code) reads the store and keeps them.
    var storeSecrets: [String: String] = [:]
    for name in ["PGPASSWORD", StoreURL.sslPasswordVariable] {
        if let value = getenv(name) { storeSecrets[name] = String(cString: value) }
    }
    let readsStore = spec.sensor != nil && Array(spec.argv.dropFirst().prefix(2)) == ["sense", "external_task"]
    if !readsStore { ProcessSecrets.scrubEnvironment { name, _ in storeSecrets[name] != nil } }
    store = ChannelAttemptStore(descriptor: channel) { () throws(AttemptStoreError) -> Int32 in
        try AttemptChannel.startHelper(executable: postgresWorker, arguments: ["--serve-attempt-store", spec.storeURL],
                                       environment: storeSecrets)
    }
}
exit(AttemptRunner(spec: spec, store: store).run())
