import ArgumentParser
import Foundation
import MetadataStore
import Workflow

extension OrchestratorCommand {
    struct Pools: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Named pools limit how many tasks using them run at once.",
                                                        subcommands: [List.self, Set.self, Delete.self])
    }
}

extension OrchestratorCommand.Pools {
    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List pools with their slots and the slots in use.")
        @OptionGroup var global: GlobalOptions
        @Flag(help: "Print JSON.") var json = false

        struct PoolJSON: Encodable {
            let pool: String
            let slots: Int
            let used: Int
        }

        func run() throws {
            let store = try global.openStore()
            let active = try store.taskInstances(states: [.queued, .running])
            let pools = try store.pools().sorted { $0.key < $1.key }.map { name, slots in
                PoolJSON(pool: name, slots: slots, used: active.filter { $0.pool == name }.count)
            }
            if json { return try Output.printJSON(pools) }
            print(Output.table(["POOL", "SLOTS", "USED"], pools.map { [$0.pool, String($0.slots), String($0.used)] }))
        }
    }

    struct Set: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a pool or change its slots.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Pool name.") var name: String
        @Argument(help: "Slots (0 to 100,000).") var slots: Int

        func validate() throws {
            guard DagLimits.poolSlots.contains(slots) else { throw ValidationError("slots must be \(DagLimits.describe(DagLimits.poolSlots))") }
            guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" }) else {
                throw ValidationError("pool name '\(name)' may contain letters, digits, _ and - only")
            }
        }

        func run() throws {
            let store = try global.openStore()
            try store.setPool(name: name, slots: slots)
            RunLookup.wakeDaemon(global.layout, leases: store)
            print("pool \(name): \(slots) slots")
        }
    }

    struct Delete: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a pool.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Pool name.") var name: String

        func run() throws {
            guard name != "default_pool" else { throw CLIError("default_pool cannot be deleted") }
            guard try global.openStore().deletePool(name: name) else { throw CLIError("no pool named '\(name)'") }
            print("pool \(name) deleted")
        }
    }
}
