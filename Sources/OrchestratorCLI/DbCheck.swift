import ArgumentParser
import MetadataStore
import PostgresStore
import StoreAddress

extension OrchestratorCommand.Db {
    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check that the store can be reached and that its schema matches this binary; changes nothing.",
            discussion: "Exits non-zero with one line naming the problem: unreachable, wrong credentials, schema too new or too old.")
        @OptionGroup var global: GlobalOptions

        func run() throws {
            let url = try global.storeURL()
            switch url.backend {
            case .sqlite:
                // Opening read-only reaches the file without migrating it.
                let store = try StoreFactory.open(url, options: StoreFactory.Options(readOnly: true))
                _ = try StoreFactory.describing { try store.pools() }
                print("\(store.location): reachable")
            case .postgres:
                let store = try StoreFactory.openPostgres(url, migrate: false, allowOlder: true)
                let status = try StoreFactory.describing { try store.schemaStatus() }
                guard status.pending.isEmpty else {
                    throw CLIError("store \(store.location): the schema is older than this binary (\(status.pending.joined(separator: ", ")) "
                                   + "not applied); run orchestrator db migrate")
                }
                print("\(store.location): reachable, schema current (\(status.applied.last ?? "none"))")
            }
        }
    }
}
