import Foundation

/// Writes the weekly drops of the `saas_weekly` example, a B2B project-management product (Jira-like), under
/// `<out>/<week_start>/` (the Monday, UTC): `accounts.csv`, `users.csv`, `projects.csv` and `tasks.csv` are
/// snapshots of the product's tables as they stood at the end of the week (Monday 00:00 UTC after it), and
/// `events.csv` holds that week's product events (login, task_created, task_completed, comment_added,
/// page_view).
///
/// Dirty on purpose, as the seed describes its data: exact duplicate events, events of unknown users, unknown
/// or miscased event types, timestamps in several ISO 8601 forms (`Z`, `±hh:mm`, `±hhmm`, no offset, a space
/// for `T`, fractional seconds), events and completions dated in the future, tasks without an assignee, and
/// tasks completed before they were created.
///
/// It writes no answer key: tests compute the marts from these raw files, independently. Deterministic: the
/// product's history starts on 2024-01-01 (week 0) and each week's entities depend only on the seed, the sizes
/// and the week's number, so a week generated again (in another window) is byte for byte the drop already there.
public struct SaasGenerator {
    public struct Sizes: Sendable {
        public var accountsPerWeek: Int
        public var usersPerWeek: Int
        public var projectsPerWeek: Int
        public var tasksPerWeek: Int
        public var eventsPerWeek: Int

        public init(accountsPerWeek: Int = 3, usersPerWeek: Int = 30, projectsPerWeek: Int = 8, tasksPerWeek: Int = 120,
                    eventsPerWeek: Int = 3_000) {
            self.accountsPerWeek = accountsPerWeek
            self.usersPerWeek = usersPerWeek
            self.projectsPerWeek = projectsPerWeek
            self.tasksPerWeek = tasksPerWeek
            self.eventsPerWeek = eventsPerWeek
        }

        /// Event ids are `week × eventIdStride + n`, so a week's ids never meet another week's.
        public static let maximumEventsPerWeek = 5_000_000
    }

    public var output: String
    public var start: Date
    public var weeks: Int
    public var sizes: Sizes
    /// Share of rows given a defect (0 for clean data).
    public var dirtiness: Double
    public var seed: UInt64

    public init(output: String, start: Date, weeks: Int, sizes: Sizes = Sizes(), dirtiness: Double = 0.03, seed: UInt64 = 2024) {
        self.output = output
        self.start = start
        self.weeks = weeks
        self.sizes = sizes
        self.dirtiness = dirtiness
        self.seed = seed
    }

    /// 2024-01-01T00:00:00Z, a Monday: the first week of the product's history.
    public static let epoch = 1_704_067_200
    static let week = 7 * 86_400
    static let eventIdStride = 10_000_000
    /// User ids from here up are nobody: the events of unknown users.
    static let unknownUserBase = 900_000_000

    public static let eventTypes = ["login", "task_created", "task_completed", "comment_added", "page_view"]
    static let plans = ["free", "free", "pro", "pro", "pro", "enterprise"]
    static let roles = ["admin", "member", "member", "member", "viewer"]
    static let priorities = ["low", "medium", "medium", "high", "urgent"]
    static let companyNames = ["Northwind", "Globex", "Initech", "Umbrella", "Hooli", "Vandelay", "Stark, Wayne & Co", "Acme",
                               "Wonka", "Tyrell", "Soylent", "Cyberdyne"]
    /// Mostly the plain form, as most rows of an export look alike; never a date alone, which would lose the time.
    static let timestampStyles: [IsoTimestamp.Style] = Array(repeating: .zulu, count: 6) + [.offsetColon, .offsetBasic, .noOffset, .space, .fraction]

    /// The Monday 00:00 UTC on or before `date`.
    public static func weekStart(of date: Date) -> Int {
        let seconds = Int(date.timeIntervalSince1970.rounded(.down))
        return epoch + (seconds - epoch).floorDivided(by: week) * week
    }

    /// Writes every week; returns the number of event rows written (dirty ones included).
    @discardableResult
    public func generate() throws -> Int {
        let firstWeek = (Self.weekStart(of: start) - Self.epoch) / Self.week
        guard firstWeek >= 0 else { throw SaasGeneratorError("the first week is before 2024-01-01, where the product's history starts") }
        var world = World(sizes: sizes, seed: seed, dirtiness: dirtiness)
        var written = 0
        for number in firstWeek..<(firstWeek + weeks) {
            world.grow(through: number)
            let weekStart = Self.epoch + number * Self.week
            let folder = "\(output)/\(String(IsoTimestamp.civil(weekStart).prefix(10)))"
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            let end = weekStart + Self.week
            var random = ShopGenerator.Random(state: seed ^ (UInt64(number) &* 0xA24B_AED4_963E_E407) ^ 0x0F00_5AA5)
            try write(world.accountLines(before: end, random: &random), to: "\(folder)/accounts.csv")
            try write(world.userLines(before: end, random: &random), to: "\(folder)/users.csv")
            try write(world.projectLines(before: end, random: &random), to: "\(folder)/projects.csv")
            try write(world.taskLines(before: end, random: &random), to: "\(folder)/tasks.csv")
            // Written last: a folder with events.csv is a whole drop (scripts/run relies on it).
            written += try writeEvents(world: world, week: number, to: "\(folder)/events.csv")
        }
        return written
    }

    func write(_ lines: [String], to path: String) throws {
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
    }

    static func csvField(_ text: String) -> String {
        text.contains(",") || text.contains("\"") ? "\"\(text.replacingOccurrences(of: "\"", with: "\"\""))\"" : text
    }

    static func stamp(_ seconds: Int, _ random: inout ShopGenerator.Random) -> String {
        IsoTimestamp.render(seconds, style: random.pick(timestampStyles))
    }
}

public struct SaasGeneratorError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
