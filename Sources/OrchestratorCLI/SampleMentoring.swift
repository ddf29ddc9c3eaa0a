import ArgumentParser
import Foundation
import SampleData
import Workflow

extension OrchestratorCommand.Sample {
    struct Mentoring: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Daily snapshots of a mentoring marketplace's five tables for mentoring_marts, dirty on purpose, under OUT/<ds>/.",
            discussion: "Each day's folder holds schools.csv, users.csv, professional_profiles.csv, conversations.csv and appointments.csv "
                + "as of the end of that day (UTC); the platform's history starts on 2024-01-01.")
        @Option(help: "Output folder.") var out: String
        @Option(help: "First day (YYYY-MM-DD, from 2024-01-01; default yesterday, UTC).") var start: String?
        @Option(help: "Number of days.") var days: Int = 1
        @Option(help: "Random seed.") var seed: UInt64 = 7
        @Option(help: "Multiplies the daily signups and conversations (for benchmarks).") var scale: Int = 1

        func validate() throws {
            guard (1...366).contains(days) else { throw ValidationError("--days must be between 1 and 366") }
            guard (1...1000).contains(scale) else { throw ValidationError("--scale must be between 1 and 1000") }
        }

        func run() throws {
            let utc = TimeZone(secondsFromGMT: 0) ?? .current
            let yesterday = Date(timeIntervalSince1970: (Date().timeIntervalSince1970 / 86_400).rounded(.down) * 86_400 - 86_400)
            guard let first = start.map({ DateParsing.parse($0, in: utc) }) ?? yesterday else {
                throw CLIError("--start '\(start ?? "")' is not a date (YYYY-MM-DD)")
            }
            guard first.timeIntervalSince1970 >= 1_704_067_200 else { throw CLIError("--start '\(start ?? "")' is before 2024-01-01, when the platform opened") }
            let generator = MentoringGenerator(output: GlobalOptions.absolute(out), start: first, days: days, seed: seed, scale: scale)
            let conversations = try generator.generate()
            print("wrote \(days) daily snapshot(s) of the mentoring tables under \(generator.output) (\(conversations) conversation rows in the last)")
        }
    }
}
