import ArgumentParser
import Foundation
import SampleData
import Workflow

extension OrchestratorCommand.Sample {
    struct Saas: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Weekly drops for saas_weekly (accounts, users, projects, tasks snapshots and the week's events), dirty on purpose, under OUT/<week start>/.",
            discussion: "Weeks run Monday 00:00 UTC to the next Monday; --start may be any day of the first week. The product's history starts on 2024-01-01.")
        @Option(help: "Output folder.") var out: String
        @Option(help: "A day of the first week (YYYY-MM-DD).") var start: String
        @Option(help: "Number of weeks.") var weeks: Int = 4
        @Option(help: "New accounts per week.") var accounts: Int = 3
        @Option(help: "New users per week.") var users: Int = 30
        @Option(help: "New projects per week.") var projects: Int = 8
        @Option(help: "New tasks per week.") var tasks: Int = 120
        @Option(help: "Events per week.") var events: Int = 3_000
        @Option(help: "Share of rows with a defect, 0 to 1.") var dirtiness: Double = 0.03
        @Option(help: "Random seed.") var seed: UInt64 = 2024

        func validate() throws {
            guard (1...520).contains(weeks) else { throw ValidationError("--weeks must be between 1 and 520") }
            for (name, value) in [("--accounts", accounts), ("--users", users), ("--projects", projects)] where !(1...100_000).contains(value) {
                throw ValidationError("\(name) must be between 1 and 100000")
            }
            guard (0...1_000_000).contains(tasks) else { throw ValidationError("--tasks must be between 0 and 1000000") }
            guard (0...SaasGenerator.Sizes.maximumEventsPerWeek).contains(events) else {
                throw ValidationError("--events must be between 0 and \(SaasGenerator.Sizes.maximumEventsPerWeek)")
            }
            guard (0...1).contains(dirtiness) else { throw ValidationError("--dirtiness must be between 0 and 1") }
        }

        func run() throws {
            guard let first = DateParsing.parse(start, in: TimeZone(secondsFromGMT: 0) ?? .current) else {
                throw CLIError("--start '\(start)' is not a date (YYYY-MM-DD)")
            }
            guard Int(first.timeIntervalSince1970) >= SaasGenerator.epoch else { throw CLIError("--start '\(start)' is before 2024-01-01") }
            let sizes = SaasGenerator.Sizes(accountsPerWeek: accounts, usersPerWeek: users, projectsPerWeek: projects,
                                            tasksPerWeek: tasks, eventsPerWeek: events)
            let generator = SaasGenerator(output: GlobalOptions.absolute(out), start: first, weeks: weeks, sizes: sizes,
                                          dirtiness: dirtiness, seed: seed)
            do {
                let rows = try generator.generate()
                print("wrote \(weeks) week(s) of saas data under \(generator.output) (\(rows) event rows)")
            } catch let error as SaasGeneratorError {
                throw CLIError(error.description)
            }
        }
    }
}
