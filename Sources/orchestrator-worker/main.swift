import Executor
import SQLiteAttemptStore
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
do {
    let store = try SQLiteAttemptStore(path: spec.storePath)
    exit(AttemptRunner(spec: spec, store: store).run())
} catch {
    fail(error.description, code: 2)
}
