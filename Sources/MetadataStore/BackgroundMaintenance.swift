/// Work a store wants done in the background while a scheduler runs (SQLite: copying its WAL back into the
/// database file). Stores that need none do not conform.
public protocol BackgroundMaintenance: Sendable {
    func startBackgroundMaintenance()
}
