import ArgumentParser
import MetadataStore
import PostgresStore
import StoreAddress

extension OrchestratorCommand.Db {
    struct Migrate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Apply the store's pending schema migrations (each in its own transaction).",
            discussion: "A SQLite store migrates itself whenever it is opened; a PostgreSQL store is migrated by this command or by the daemon.")
        @OptionGroup var global: GlobalOptions

        func run() throws {
            let url = try global.storeURL()
            switch url.backend {
            case .sqlite:
                let store = try StoreFactory.open(url)
                print("\(store.location): schema up to date")
            case .postgres:
                let store = try StoreFactory.openPostgres(url, migrate: false, allowOlder: true)
                let applied = try StoreFactory.describing { try store.migrate() }
                print(applied.isEmpty ? "\(store.location): schema up to date, nothing to apply"
                                      : "\(store.location): applied \(applied.joined(separator: ", "))")
            }
        }
    }
}
