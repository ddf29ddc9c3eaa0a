import Foundation
import SQLiteStore
import WorkerCore

// orchestrator-worker '<attempt spec as JSON>'
// Started by the scheduler once per task attempt; see AttemptRunner.
let arguments = CommandLine.arguments
guard arguments.count == 2, let spec = try? JSONDecoder().decode(AttemptSpec.self, from: Data(arguments[1].utf8)) else {
    FileHandle.standardError.write(Data("usage: orchestrator-worker ATTEMPT_SPEC_JSON (started by the orchestrator scheduler)\n".utf8))
    exit(64)
}
do {
    let store = try SQLiteMetadataStore(path: spec.storePath)
    exit(AttemptRunner(spec: spec, store: store).run())
} catch {
    FileHandle.standardError.write(Data("orchestrator-worker: \(error)\n".utf8))
    exit(2)
}
