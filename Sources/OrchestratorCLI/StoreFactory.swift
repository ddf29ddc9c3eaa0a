import Foundation
import MetadataStore
import PostgresStore
import SQLiteStore
import SecretMasking
import StoreAddress

/// Opens the metadata store a URL names. Each backend registers one opener under its scheme; a backend not
/// built into this binary is one clear error instead of a silent fallback to SQLite.
enum StoreFactory {
    struct Options: Sendable {
        /// A second, read-only connection (the status pages), which must not migrate or write anything.
        var readOnly = false
    }

    typealias Opener = @Sendable (StoreURL, Options) throws -> any MetadataStore

    /// The backends of this binary, by URL scheme.
    static let openers: [StoreURL.Backend: Opener] = [
        .sqlite: { url, options in try SQLiteMetadataStore(path: url.path ?? "", readOnly: options.readOnly) },
        // A read-only opener (the pages) does not migrate; it refuses a schema older or newer than this binary.
        .postgres: { url, options in try PostgresMetadataStore(url: url.connectionString, migrate: !options.readOnly) },
    ]

    /// `flag`, then ORCHESTRATOR_STORE / `store:` (`configured`), then the home's SQLite file.
    static func url(flag: String?, configured: String?, defaultPath: String) throws -> StoreURL {
        let text = [flag, configured].compactMap { $0 }.first { !$0.isEmpty }
        guard let text else { return .sqlite(path: defaultPath) }
        do {
            // A relative SQLite path is taken from the working directory, as --home is.
            if text.hasPrefix("sqlite://"), !text.dropFirst("sqlite://".count).hasPrefix("/") {
                return .sqlite(path: GlobalOptions.absolute(String(text.dropFirst("sqlite://".count))))
            }
            return try StoreURL.parse(text)
        } catch {
            // StoreURL masks what it parsed; SecretMasker catches any password form it did not.
            throw CLIError(SecretMasker.masked("\(error)"))
        }
    }

    static func open(_ url: StoreURL, options: Options = Options()) throws -> any MetadataStore {
        guard let opener = openers[url.backend] else {
            throw CLIError("store \(url): \(url.backend.displayName) store not built in this binary yet")
        }
        do {
            return try opener(url, options)
        } catch let error as StoreError {
            throw CLIError("\(error)")
        }
    }
}

extension StoreURL.Backend {
    var displayName: String { self == .sqlite ? "SQLite" : "PostgreSQL" }
}

extension StoreFactory {
    /// A PostgreSQL store for the `db` commands, which decide themselves whether to migrate; `allowOlder` opens a
    /// schema that has migrations pending (to apply or report them).
    static func openPostgres(_ url: StoreURL, migrate: Bool, allowOlder: Bool) throws -> PostgresMetadataStore {
        do {
            return try PostgresMetadataStore(url: url.connectionString, migrate: migrate, allowOlder: allowOlder)
        } catch let error as StoreError {
            throw CLIError("\(error)")
        }
    }

    /// Runs a store call, turning its `StoreError` into the CLI's one line.
    static func describing<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch let error as StoreError { throw CLIError("\(error)") }
    }
}
