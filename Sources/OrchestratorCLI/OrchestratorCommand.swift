import ArgumentParser

/// The `orchestrator` command line: a thin layer over the Workflow, store and scheduler modules.
public struct OrchestratorCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "orchestrator",
        abstract: "Runs data pipelines described by DAG files, keeping every run in SQLite.",
        discussion: """
            The home folder (store, logs) comes from --home or ORCHESTRATOR_HOME, default ~/.orchestrator.
            The DAG folder comes from --dags or ORCHESTRATOR_DAGS, default ./dags.
            """,
        subcommands: [
            Daemon.self, Dags.self, Trigger.self, Backfill.self, Runs.self, Tasks.self, Logs.self, Test.self,
            Pools.self, Transform.self, Sample.self, Rules.self, Config.self, Sense.self, LakeCommand.self, Db.self, Models.self,
        ]
    )

    public init() {}
}
