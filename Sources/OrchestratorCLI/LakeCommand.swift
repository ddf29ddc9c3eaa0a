import ArgumentParser
import Foundation
import Transforms
import Workflow

extension OrchestratorCommand {
    struct LakeCommand: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "lake", abstract: "Look after the lake.", subcommands: [GC.self])
    }
}

extension OrchestratorCommand.LakeCommand {
    /// Publishing removes the version it supersedes; this catches what killed writers left: staging folders and,
    /// on S3, uploaded versions that no manifest names. Only what is older than the grace period goes, so a
    /// publish in flight is not broken.
    struct GC: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove stale staging and unreferenced partition versions from the lake.")
        @OptionGroup var global: GlobalOptions
        @Option(help: "The lake: a folder, file:///path or s3://bucket/prefix (env ORCHESTRATOR_LAKE, configuration lake:; default HOME/lake).")
        var lake: String?
        @Option(help: "Leave alone what is younger than this, e.g. 1h, 30m (a writer may still be publishing it).")
        var grace: String = "1h"

        func run() throws {
            guard let seconds = DurationParser.seconds(grace) else { throw CLIError("grace '\(grace)' is not a duration (try 1h or 30m)") }
            let configuration = try global.configuration()
            let url = LakeSetting.resolve(flag: lake, configuration, home: global.layout)
            let environment = ProcessInfo.processInfo.environment
            do throws(TransformError) {
                let lake = try LakeFactory.make(url: url, home: global.homePath, folder: FileManager.default.currentDirectoryPath,
                                                environment: environment, connections: Connections(urls: configuration.connections))
                let removed = try lake.collectGarbage(olderThan: seconds, now: Date())
                for item in removed { print("removed \(item)") }
                print("\(lake.description): \(removed.count) stale item\(removed.count == 1 ? "" : "s") removed")
            } catch {
                throw CLIError("lake gc: \(error.description)")
            }
        }
    }
}
