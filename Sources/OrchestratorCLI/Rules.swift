import ArgumentParser
import Foundation
import Transforms

extension OrchestratorCommand {
    struct Rules: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Write and check silver.clean rules files.",
                                                        subcommands: [Suggest.self, Check.self])
    }
}

extension OrchestratorCommand.Rules {
    struct Suggest: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print a rules block to start from, read from a sample of a CSV file.",
            discussion: """
                Proposes a type per column (uuid, int, decimal, bool, date, timestamp with the day-first or month-first
                formats it saw — ISO 8601 needs none — or string), `required` for columns never empty in the sample, a
                key (the first column filled and distinct in at least 95 % of the sample rows, preferring id and *_id: a
                sample's dirt, a missing id or a row exported twice, does not hide the key) and accepted_values for
                string columns with at most 12 distinct values over at least 50 rows. Names are the headers in lowercase
                with underscores; when two headers give the same name, the later ones get _2, _3… Review it before use.
                """)
        @Argument(help: "The CSV file (with a header line).") var file: String
        @Option(help: "Table name in the rules (default: the file's name without extension).") var table: String?
        @Option(help: "Rows of the sample.") var rows: Int = 10_000

        func validate() throws {
            // The sample is held in memory: keep it a sample.
            if !(1...1_000_000).contains(rows) { throw ValidationError("--rows must be between 1 and 1000000") }
        }

        func run() throws {
            let path = GlobalOptions.absolute(file)
            let name = table ?? ((path as NSString).lastPathComponent as NSString).deletingPathExtension
            let suggester = try RulesSuggester(path: path, table: name, limit: rows)
            print(suggester.yaml(source: file), terminator: "")
        }
    }

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Load a rules file as silver.clean does and list its tables and columns; errors name the file, line and field.")
        @Argument(help: "The rules file.") var file: String

        func run() throws {
            let rules: CleaningRules
            do { rules = try CleaningRules.load(path: GlobalOptions.absolute(file)) } catch { throw CLIError(error.description) }
            for (name, table) in rules.tables.sorted(by: { $0.key < $1.key }) {
                let key = table.key.isEmpty ? "" : " key [\(table.key.joined(separator: ", "))]"
                print("\(name)\(key): " + table.columns.map { "\($0.name) \($0.type.rawValue)" + ($0.required ? " required" : "") }.joined(separator: ", "))
            }
        }
    }
}
