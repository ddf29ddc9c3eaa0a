import Foundation

/// What a correct saas_weekly pipeline produces, computed here from the raw weekly drops alone: its own CSV
/// reader and ISO 8601 parser, the silver rule as docs/saas_weekly.md states it (and rules.yaml encodes), and the
/// marts' definitions. Independent of the transform library, of the models' SQL and of the generator.
struct SaasWeeklyExpectation {
    struct Activity: Equatable { var activeUsers = 0, events = 0, tasksCreated = 0, tasksCompleted = 0, comments = 0 }
    struct Productivity: Equatable { var tasksCreated = 0, tasksCompleted = 0; var cycleHours: Double? }
    struct Retention: Equatable { let cohortWeek: String, cohortSize: Int, retained: Int; let rate: Double? }
    struct Scorecard: Equatable { let activeAccounts: Int, activeUsers: Int, newUsers: Int, tasksCompleted: Int; let wauChangePct: Double? }

    /// By week (the Monday, `YYYY-MM-DD`), then by account id.
    var activity: [String: [Int: Activity]] = [:]
    var productivity: [String: [Int: Productivity]] = [:]
    var retention: [String: Retention] = [:]
    var scorecard: [String: Scorecard] = [:]
    /// Events kept by silver, by week (rows after dedupe, before the week filter).
    var silverEvents: [String: Int] = [:]

    static let week = 7 * 86_400

    /// Over the drops under `data` for `weeks` (Mondays, in order; the first is the first the pipeline ran).
    static func compute(data: String, weeks: [String]) throws -> SaasWeeklyExpectation {
        var expected = SaasWeeklyExpectation()
        var knownAccounts = Set<Int>(), knownUsers = Set<Int>(), knownProjects = Set<Int>()
        var previousWAU: Int?
        for week in weeks {
            guard let start = Self.instant(week + "T00:00:00Z") else { throw ExpectationError("bad week \(week)") }
            let end = start + Self.week
            let folder = "\(data)/\(week)"
            func inWeek(_ instant: Int) -> Bool { instant >= start && instant < end }

            // Silver, table by table; a foreign key looks through every drop up to this week.
            for row in try rows("\(folder)/accounts.csv") {
                guard let id = positive(row["account_id"]), !(row["account_name"] ?? "").isEmpty,
                      ["free", "pro", "enterprise"].contains(lowered(row["plan"])), instant(row["created_at"]) != nil else { continue }
                knownAccounts.insert(id)
            }
            var accountOfUser: [Int: Int] = [:], createdOfUser: [Int: Int] = [:]
            for row in try rows("\(folder)/users.csv") {
                guard let id = positive(row["user_id"]), let account = Int(trimmed(row["account_id"])), knownAccounts.contains(account),
                      lowered(row["email"]).range(of: #"^[^@ ]+@[^@ ]+\.[a-z]+$"#, options: .regularExpression) != nil,
                      ["admin", "member", "viewer"].contains(lowered(row["role"])), let created = instant(row["created_at"]) else { continue }
                accountOfUser[id] = account
                createdOfUser[id] = created
            }
            knownUsers.formUnion(accountOfUser.keys)
            var accountOfProject: [Int: Int] = [:]
            for row in try rows("\(folder)/projects.csv") {
                guard let id = positive(row["project_id"]), let account = Int(trimmed(row["account_id"])), knownAccounts.contains(account),
                      !(row["project_name"] ?? "").isEmpty, instant(row["created_at"]) != nil else { continue }
                accountOfProject[id] = account
            }
            knownProjects.formUnion(accountOfProject.keys)
            var tasks: [Int: (account: Int?, created: Int, completed: Int?)] = [:]
            for row in try rows("\(folder)/tasks.csv") {
                let assignee = trimmed(row["assignee_id"]), completedText = trimmed(row["completed_at"])
                guard let id = positive(row["task_id"]), let project = Int(trimmed(row["project_id"])), knownProjects.contains(project),
                      let creator = Int(trimmed(row["created_by"])), knownUsers.contains(creator),
                      assignee.isEmpty || Int(assignee).map(knownUsers.contains) == true,
                      ["todo", "in_progress", "done"].contains(lowered(row["status"])),
                      ["low", "medium", "high", "urgent"].contains(lowered(row["priority"])),
                      let created = instant(row["created_at"]) else { continue }
                let completed = completedText.isEmpty ? nil : instant(completedText)
                if !completedText.isEmpty && completed == nil { continue }
                tasks[id] = (accountOfProject[project], created, completed)
            }
            var events: [Int: (user: Int, type: String, at: Int)] = [:]  // by event_id: the last row wins
            for row in try rows("\(folder)/events.csv") {
                let type = lowered(row["event_type"])
                let task = trimmed(row["task_id"])
                guard let id = positive(row["event_id"]), let user = Int(trimmed(row["user_id"])), knownUsers.contains(user),
                      ["login", "task_created", "task_completed", "comment_added", "page_view"].contains(type),
                      let at = instant(row["occurred_at"]), task.isEmpty || Int(task) != nil else { continue }
                events[id] = (user, type, at)
            }
            expected.silverEvents[week] = events.count

            // mart_user_activity_weekly: the week's events (by timestamp), by the user's account in this snapshot.
            var activity: [Int: Activity] = [:], activeByAccount: [Int: Set<Int>] = [:]
            var activeUsers = Set<Int>()
            for event in events.values where inWeek(event.at) {
                activeUsers.insert(event.user)
                guard let account = accountOfUser[event.user] else { continue }
                activeByAccount[account, default: []].insert(event.user)
                var counts = activity[account, default: Activity()]
                counts.events += 1
                if event.type == "task_created" { counts.tasksCreated += 1 }
                if event.type == "task_completed" { counts.tasksCompleted += 1 }
                if event.type == "comment_added" { counts.comments += 1 }
                activity[account] = counts
            }
            for (account, users) in activeByAccount { activity[account]?.activeUsers = users.count }
            expected.activity[week] = activity

            // mart_task_productivity_weekly: a completion counts in its week unless it precedes the creation.
            var productivity: [Int: Productivity] = [:], cycleSeconds: [Int: Int] = [:]
            for task in tasks.values {
                guard let account = task.account else { continue }
                if inWeek(task.created) { productivity[account, default: Productivity()].tasksCreated += 1 }
                if let completed = task.completed, inWeek(completed), completed >= task.created {
                    productivity[account, default: Productivity()].tasksCompleted += 1
                    cycleSeconds[account, default: 0] += completed - task.created
                }
            }
            for (account, seconds) in cycleSeconds {
                guard let count = productivity[account]?.tasksCompleted, count > 0 else { continue }
                productivity[account]?.cycleHours = round(Double(seconds) / Double(count) / 3600, places: 1)
            }
            expected.productivity[week] = productivity

            // mart_user_retention_w4: the users created four weeks before, active this week.
            let cohortStart = start - 4 * Self.week
            let cohort = createdOfUser.filter { $0.value >= cohortStart && $0.value < cohortStart + Self.week }.map(\.key)
            let retained = cohort.filter(activeUsers.contains).count
            expected.retention[week] = Retention(cohortWeek: String(civil(cohortStart).prefix(10)), cohortSize: cohort.count, retained: retained,
                                                 rate: cohort.isEmpty ? nil : round(Double(retained) / Double(cohort.count), places: 4))

            // mart_exec_scorecard_weekly.
            let wau = activeByAccount.values.reduce(0) { $0 + $1.count }
            let change = previousWAU.flatMap { previous in previous > 0 ? round(100 * Double(wau - previous) / Double(previous), places: 1) : nil }
            expected.scorecard[week] = Scorecard(activeAccounts: activity.count, activeUsers: wau,
                                                 newUsers: createdOfUser.values.filter(inWeek).count,
                                                 tasksCompleted: productivity.values.reduce(0) { $0 + $1.tasksCompleted }, wauChangePct: change)
            previousWAU = activity.isEmpty ? nil : wau
        }
        return expected
    }

    struct ExpectationError: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }

    static func round(_ value: Double, places: Int) -> Double {
        let scale = pow(10, Double(places))
        return (value * scale).rounded(.toNearestOrAwayFromZero) / scale
    }

    // MARK: Reading the raw files

    static func trimmed(_ text: String?) -> String { (text ?? "").trimmingCharacters(in: .whitespaces) }
    static func lowered(_ text: String?) -> String { trimmed(text).lowercased() }
    static func positive(_ text: String?) -> Int? { Int(trimmed(text)).flatMap { $0 >= 1 ? $0 : nil } }

    /// The rows of a CSV file as header → field; a row whose field count differs from the header's is dropped.
    static func rows(_ path: String) throws -> [[String: String]] {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        var records = parseCSV(text)
        guard !records.isEmpty else { return [] }
        let header = records.removeFirst()
        return records.filter { $0.count == header.count }.map { Dictionary(uniqueKeysWithValues: zip(header, $0)) }
    }

    /// RFC 4180: fields separated by commas, records by LF (or CRLF), quotes around fields holding either.
    static func parseCSV(_ text: String) -> [[String]] {
        var records: [[String]] = [], record: [String] = [], field = ""
        var quoted = false, afterQuote = false
        for character in text {
            if quoted {
                if character == "\"" { quoted = false; afterQuote = true } else { field.append(character) }
                continue
            }
            switch character {
            case "\"":
                if afterQuote { field.append("\"") }  // a doubled quote inside a quoted field
                quoted = true
                afterQuote = false
            case ",":
                record.append(field); field = ""; afterQuote = false
            case "\n", "\r\n":
                record.append(field); field = ""; afterQuote = false
                records.append(record); record = []
            default:
                field.append(character); afterQuote = false
            }
        }
        if !field.isEmpty || !record.isEmpty { record.append(field); records.append(record) }
        return records
    }

    /// Unix seconds of an ISO 8601 timestamp: `YYYY-MM-DD`, `T` or a space, `HH:MM:SS`, an optional fraction
    /// (dropped), then nothing (UTC), `Z`, `±hh:mm` or `±hhmm`. Nil for anything else or an impossible date.
    static func instant(_ text: String?) -> Int? {
        let value = trimmed(text)
        let pattern = #"^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.\d+)?(Z|[+-]\d{2}:?\d{2})?$"#
        guard let match = try? NSRegularExpression(pattern: pattern).firstMatch(in: value, range: NSRange(value.startIndex..., in: value)) else {
            return nil
        }
        func group(_ index: Int) -> String? { Range(match.range(at: index), in: value).map { String(value[$0]) } }
        guard let year = group(1).flatMap(Int.init), let month = group(2).flatMap(Int.init), let day = group(3).flatMap(Int.init),
              let hour = group(4).flatMap(Int.init), let minute = group(5).flatMap(Int.init), let second = group(6).flatMap(Int.init),
              (1...12).contains(month), day >= 1, day <= daysIn(month, year), hour < 24, minute < 60, second < 60 else { return nil }
        var offset = 0
        if let zone = group(7), zone != "Z" {
            let digits = zone.dropFirst().filter(\.isNumber)
            guard let hours = Int(digits.prefix(2)), let minutes = Int(digits.suffix(2)) else { return nil }
            offset = (hours * 3600 + minutes * 60) * (zone.hasPrefix("-") ? -1 : 1)
        }
        return daysFromCivil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second - offset
    }

    static func daysIn(_ month: Int, _ year: Int) -> Int {
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
        return [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
    static func daysFromCivil(_ year: Int, _ month: Int, _ day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    static func civil(_ seconds: Int) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = TimeZone(secondsFromGMT: 0)
        return formatter.string(from: Date(timeIntervalSince1970: TimeInterval(seconds)))
    }
}
