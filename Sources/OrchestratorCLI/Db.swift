import ArgumentParser

extension OrchestratorCommand {
    /// The metadata store itself: its schema version, and moving a history from one store to another.
    struct Db: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Migrate, check or copy the metadata store.",
            subcommands: [Migrate.self, Check.self, Copy.self])
    }
}
