import ArgumentParser
import Foundation
import SecretMasking

extension OrchestratorCommand {
    struct Config: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Check the configuration.", subcommands: [Check.self])
    }
}

extension OrchestratorCommand.Config {
    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Validate the configuration file and show the effective values (secrets masked) and where each comes from.")
        @OptionGroup var global: GlobalOptions

        func run() throws {
            let configuration = try global.configuration()
            print("configuration file: \(configuration.file ?? "none (defaults and environment)")")
            for (key, _, _) in Configuration.keys {
                guard let setting = configuration.values[key] else { continue }
                var value = setting.value
                var source = setting.source
                if key == "home", let flag = global.home { value = flag; source = "--home" }
                if key == "dags", let flag = global.dags { value = flag; source = "--dags" }
                // Any value may carry a password (a store URL, say): the one masker sees every line.
                if key == "web_token" { value = value.isEmpty ? "(none: web actions off)" : "***" }
                else if key == "node_token" { value = value.isEmpty ? "(none: no logs shared between nodes)" : "***" }
                else { value = SecretMasker.masked(value) }
                print("\(key.padding(toLength: 13, withPad: " ", startingAt: 0)) \(value)  (\(source))")
            }
            for (pool, slots) in configuration.pools.sorted(by: { $0.key < $1.key }) { print("pool          \(pool): \(slots) slots") }
            for (name, url) in configuration.connections.sorted(by: { $0.key < $1.key }) {
                print("connection    \(name): \(Configuration.masked(url))")
            }
            print("ok")
        }
    }
}
