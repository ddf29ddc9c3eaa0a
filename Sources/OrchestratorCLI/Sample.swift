import ArgumentParser
import Foundation
import SampleData
import Workflow

extension OrchestratorCommand {
    struct Sample: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Write sample source data for the example pipelines.",
                                                        subcommands: [Shop.self, Social.self, Mentoring.self, Saas.self, MoviesAPI.self])
    }
}

extension OrchestratorCommand.Sample {
    struct Shop: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Daily clients.csv and purchases.csv drops for shop_lake, dirty on purpose, under OUT/<ds>/.",
            discussion: "Ids are text codes (C0021, P00047); dates and timestamps come in every usual ISO 8601 form and day-first.")
        @Option(help: "Output folder.") var out: String
        @Option(help: "First day (YYYY-MM-DD).") var start: String
        @Option(help: "Number of days.") var days: Int = 3
        @Option(help: "New clients per day.") var clients: Int = 50
        @Option(help: "Purchases per day.") var purchases: Int = 500
        @Option(help: "Share of rows with a defect, 0 to 1.") var dirtiness: Double = 0.05
        @Option(help: "Random seed.") var seed: UInt64 = 42

        func validate() throws {
            guard days >= 1, clients >= 1, purchases >= 0 else { throw ValidationError("--days and --clients must be at least 1") }
            guard (0...1).contains(dirtiness) else { throw ValidationError("--dirtiness must be between 0 and 1") }
        }

        func run() throws {
            guard let first = DateParsing.parse(start, in: TimeZone(secondsFromGMT: 0) ?? .current) else {
                throw CLIError("--start '\(start)' is not a date (YYYY-MM-DD)")
            }
            // Ids are numbered by day from 2020-01-01; earlier days would share them.
            guard first.timeIntervalSince1970 >= 1_577_836_800 else { throw CLIError("--start '\(start)' is before 2020-01-01") }
            let generator = ShopGenerator(output: GlobalOptions.absolute(out), start: first, days: days, clientsPerDay: clients,
                                          purchasesPerDay: purchases, dirtiness: dirtiness, seed: seed)
            let rows = try generator.generate()
            print("wrote \(days) day(s) of shop data under \(generator.output) (\(rows) purchase rows)")
        }
    }
}

extension OrchestratorCommand.Sample {
    struct Social: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The social app's tables for social_elt, as OUT/schema.sql and OUT/<table>.csv (load them with scripts/seed-social).",
            discussion: "Ids are UUIDs, as in the social app it models.")
        @Option(help: "Output folder.") var out: String
        @Option(help: "First day (YYYY-MM-DD).") var start: String
        @Option(help: "Number of days.") var days: Int = 3
        @Option(help: "Number of users.") var users: Int = 100
        @Option(help: "Random seed.") var seed: UInt64 = 11

        func validate() throws {
            guard days >= 1, users >= 1 else { throw ValidationError("--days and --users must be at least 1") }
        }

        func run() throws {
            guard let first = DateParsing.parse(start, in: TimeZone(secondsFromGMT: 0) ?? .current) else {
                throw CLIError("--start '\(start)' is not a date (YYYY-MM-DD)")
            }
            let generator = SocialGenerator(output: GlobalOptions.absolute(out), start: first, days: days, users: users, seed: seed)
            try generator.generate()
            print("wrote the social tables for \(days) day(s) and \(users) users under \(generator.output)")
        }
    }
}
