import ArgumentParser
import Foundation
import MetadataStore
import PostgresClient
import StoreAddress

extension OrchestratorCommand.Db {
    struct Copy: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Copy a SQLite store's whole history into a PostgreSQL store, in one transaction.",
            discussion: """
                Runs, task instances, attempts, pools, backfills, the notification outbox and SLA misses move as they are. \
                A target that already holds a history is refused unless --force, which replaces it. Stop the daemon first.
                """)
        @Option(help: "The SQLite store: sqlite:///path/to/orchestrator.db.") var from: String
        @Option(help: "The PostgreSQL store: postgres://user:password@host:port/db (migrated first).") var to: String
        @Flag(help: "Replace the target's history if it has one.") var force = false

        func run() throws {
            let source: StoreURL, target: StoreURL
            do {
                source = try StoreURL.parse(from.hasPrefix("sqlite://") && !from.dropFirst(9).hasPrefix("/")
                                            ? "sqlite://" + GlobalOptions.absolute(String(from.dropFirst(9))) : from)
                target = try StoreURL.parse(to)
            } catch {
                throw CLIError("\(error)")
            }
            guard source.backend == .sqlite, let path = source.path else { throw CLIError("db copy: --from \(source) is not a sqlite:/// store") }
            guard target.backend == .postgres else { throw CLIError("db copy: --to \(target) is not a postgres:// store") }
            guard FileManager.default.fileExists(atPath: path) else { throw CLIError("db copy: --from \(source): no such file") }
            let copied: [(table: String, rows: Int)]
            do {
                copied = try SQLiteToPostgresCopy(sourcePath: path, targetURL: target.connectionString, force: force).run()
            } catch let error as StoreError {
                throw CLIError("\(error)")
            } catch let error as PostgresError {
                throw CLIError("\(error)")
            }
            print("copied \(source) → \(target): " + copied.map { "\($0.rows) \($0.table)" }.joined(separator: ", "))
        }
    }
}
