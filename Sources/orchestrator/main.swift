import OrchestratorCLI

OrchestratorCommand.main()
