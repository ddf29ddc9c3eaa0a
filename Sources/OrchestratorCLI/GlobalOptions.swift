import ArgumentParser
import Foundation
import MetadataStore
import SecretMasking
import StoreAddress
import WorkerCore
import Workflow

/// `--home` and `--dags`, shared by every subcommand.
struct GlobalOptions: ParsableArguments {
    @Option(name: .long, help: "Home folder for the store and logs (env ORCHESTRATOR_HOME; default ~/.orchestrator).")
    var home: String?

    @Option(name: .long, help: "Folder of DAG files (env ORCHESTRATOR_DAGS; default ./dags).")
    var dags: String?

    @Option(name: .long, help: "Metadata store URL (env ORCHESTRATOR_STORE; default sqlite:///<home>/orchestrator.db; postgres://user@host:port/db, the password in ORCHESTRATOR_STORE, the configuration file or PGPASSWORD, never here: any local user can read a command line).")
    var store: String?

    @Option(name: .long, help: "Configuration file (env ORCHESTRATOR_CONFIG; default /etc/orchestrator/orchestrator.yaml if it exists).")
    var config: String?

    /// The configuration file with the environment applied; flags take precedence over it.
    func configuration(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> Configuration {
        try Configuration.load(path: config.map(Self.absolute), environment: environment)
    }

    /// The configuration as first read by this process, for the home and DAG folder paths (which commands look
    /// at several times, and which a reload does not change); nil when the file is broken.
    private static let pathsConfiguration = LockedValue<[String: Configuration?]>([:])

    private var configurationForPaths: Configuration? {
        let key = config ?? ""
        if let known = Self.pathsConfiguration.get()[key] { return known }
        let loaded = try? configuration()
        Self.pathsConfiguration.update { $0[key] = loaded }
        return loaded
    }

    /// Flag, then environment, then configuration file, then `~/.orchestrator`. (A broken configuration file is
    /// reported by `daemon` and `config check`; other commands fall back to the environment and defaults.)
    var homePath: String {
        if let home, !home.isEmpty { return Self.absolute(home) }
        let configured = configurationForPaths?.value("home") ?? ProcessInfo.processInfo.environment["ORCHESTRATOR_HOME"] ?? ""
        return Self.absolute(configured.isEmpty ? "~/.orchestrator" : configured)
    }

    var dagsPath: String {
        if let dags, !dags.isEmpty { return Self.absolute(dags) }
        let configured = configurationForPaths?.value("dags") ?? ProcessInfo.processInfo.environment["ORCHESTRATOR_DAGS"] ?? ""
        return Self.absolute(configured.isEmpty ? "dags" : configured)
    }

    var layout: HomeLayout { HomeLayout(home: homePath) }

    /// ORCHESTRATOR_STORE as this process was started with, kept before the secrets leave its environment (a store
    /// URL with a password is one of them).
    private static let launchStore = LockedValue<String?>(nil)

    static func rememberLaunchStore() {
        if let value = ProcessInfo.processInfo.environment["ORCHESTRATOR_STORE"], !value.isEmpty { launchStore.update { $0 = $0 ?? value } }
    }

    private static let warnedAboutStorePassword = LockedValue<Bool>(false)

    /// A password in `--store` is in /proc/PID/cmdline, which any local user can read: refused for the daemon (which
    /// runs for long), a warning for other commands.
    func checkStoreFlagHasNoPassword(refuse: Bool) throws {
        guard let store, let url = try? StoreURL.parse(store), url.password != nil || url.sslPassword != nil else { return }
        let advice = "any local user can read it in the command line; put it in ORCHESTRATOR_STORE, the configuration file's store:, or PGPASSWORD"
        if refuse { throw CLIError("--store \(SecretMasker.masked(url.description)): a password does not belong in --store: \(advice)") }
        guard !Self.warnedAboutStorePassword.get() else { return }
        Self.warnedAboutStorePassword.update { $0 = true }
        FileHandle.standardError.write(Data("warning: --store holds a password: \(advice)\n".utf8))
    }

    /// Flag, then environment, then configuration file, then the home's SQLite file.
    func storeURL() throws -> StoreURL {
        try checkStoreFlagHasNoPassword(refuse: false)
        let configured = Self.launchStore.get() ?? configurationForPaths?.value("store") ?? ProcessInfo.processInfo.environment["ORCHESTRATOR_STORE"]
        return try StoreFactory.url(flag: store, configured: configured, defaultPath: layout.storePath)
    }

    func openStore(readOnly: Bool = false) throws -> any MetadataStore {
        try StoreFactory.open(try storeURL(), options: StoreFactory.Options(readOnly: readOnly))
    }

    /// Loads the DAG folder; an absent folder is an error that names it.
    func loadFolder() throws -> DagFolder {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: dagsPath, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw CLIError("DAG folder \(dagsPath) does not exist (set --dags or ORCHESTRATOR_DAGS)")
        }
        return DagFolder.load(path: dagsPath)
    }

    /// The DAG with this id, or an error that says why it is not available.
    func loadDag(_ dagId: String) throws -> DAG {
        let folder = try loadFolder()
        if let dag = folder.dags[dagId] { return dag }
        // A file that fails to load may be the one that defines this DAG: show its errors.
        for (file, error) in folder.errors.sorted(by: { $0.key < $1.key })
        where ((file as NSString).lastPathComponent as NSString).deletingPathExtension == dagId {
            throw CLIError("DAG '\(dagId)' failed to load:\n\(error)")
        }
        let known = folder.sortedDags.map(\.dagId)
        let hint = known.isEmpty ? "no DAGs are defined in \(dagsPath)" : "known: \(known.joined(separator: ", "))"
        throw CLIError("unknown DAG '\(dagId)' in \(dagsPath) (\(hint))")
    }

    static func absolute(_ path: String) -> String {
        let expanded = (path as NSString).expandingTildeInPath
        if expanded.hasPrefix("/") { return (expanded as NSString).standardizingPath }
        let joined = (FileManager.default.currentDirectoryPath as NSString).appendingPathComponent(expanded)
        return (joined as NSString).standardizingPath
    }
}
