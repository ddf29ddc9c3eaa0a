import Foundation
import GRDB
import XCTest

/// The mentoring_marts example end to end: generated daily snapshots → bronze → models.run (staging, intermediate,
/// marts) in the SQLite warehouse, every mart checked against values computed here, in Swift, from the raw CSV
/// files of the last day (nothing of the models' SQL), and a `--reset` backfill giving identical marts.
final class MentoringMartsTests: XCTestCase {
    static let days = ["2024-03-01", "2024-03-02", "2024-03-03"]

    static func makeHarness() throws -> Harness {
        let h = try Harness()
        let source = ShopLakeTests.repository.appendingPathComponent("dags")
        try FileManager.default.copyItem(at: source.appendingPathComponent("mentoring_marts"), to: h.dags.appendingPathComponent("mentoring_marts"))
        let yaml = try String(contentsOf: source.appendingPathComponent("mentoring_marts.yaml"), encoding: .utf8)
        try h.writeDag("mentoring_marts.yaml", yaml.replacingOccurrences(of: "retries: 1", with: "retries: 0"))
        let generated = try h.run(["sample", "mentoring", "--out", h.path("data/mentoring"), "--start", Self.days[0], "--days", "3"])
        XCTAssertEqual(generated.status, 0, generated.stderr)
        return h
    }

    func testEveryMartMatchesValuesComputedFromTheRawSnapshotAndAResetBackfillGivesTheSame() throws {
        let h = try Self.makeHarness()
        let backfill = try h.run(["backfill", "mentoring_marts", "--start", Self.days[0], "--end", Self.days[2]])
        let modelsLog = try h.run(["logs", "mentoring_marts", "models", "--date", Self.days[2]]).stdout
        XCTAssertEqual(backfill.status, 0, backfill.stderr + modelsLog)
        let raw = try RawSnapshot(folder: h.path("data/mentoring/\(Self.days[2])"))
        let warehouse = try DatabaseQueue(path: h.home.appendingPathComponent("warehouse.db").path)
        let marts = try Self.dump(warehouse)

        XCTAssertEqual(marts["monthly_funnel"], raw.monthlyFunnel(), "monthly_funnel")
        XCTAssertEqual(marts["professionals_usage"], raw.professionalsUsage(), "professionals_usage")
        XCTAssertEqual(marts["students_usage"], raw.studentsUsage(), "students_usage")
        // The incremental model kept one row per day, each day's own snapshot.
        var snapshots: [[String]] = []
        for day in Self.days {
            let snapshot = try RawSnapshot(folder: h.path("data/mentoring/\(day)"))
            snapshots.append([day, "\(snapshot.students.count)", "\(snapshot.professionals.count)", "\(snapshot.conversations.count)", "\(snapshot.appointments.count)"])
        }
        XCTAssertEqual(marts["daily_snapshot_stats"], snapshots)
        XCTAssertGreaterThan(marts["professionals_usage"]?.count ?? 0, 10)

        // The warnings name what the export got wrong: the professional with two profiles, the duplicate removed.
        XCTAssertEqual(raw.professionalsWithTwoProfiles.count, 1)
        let professional = try XCTUnwrap(raw.professionalsWithTwoProfiles.first)
        XCTAssertTrue(modelsLog.contains("WARN models.run: test professional_has_one_profile on stg_professional_profiles, stg_users warns: 1 failing row"), modelsLog)
        XCTAssertTrue(modelsLog.contains("    \(professional) | 2 | 0"), modelsLog)
        XCTAssertTrue(modelsLog.contains("    conversations | \(raw.rawConversationRows) | \(raw.conversations.count) | \(raw.rawConversationRows - raw.conversations.count)"), modelsLog)
        XCTAssertEqual(raw.rawConversationRows - raw.conversations.count, 1)
        let result = try XCTUnwrap(Self.latestResult(h))
        let problems = result["problems"] as? [[String: Any]] ?? []
        XCTAssertEqual(Set(problems.compactMap { ($0["details"] as? [String: Any])?["test"] as? String }), ["professional_has_one_profile", "exact_duplicates_removed"])
        let models = result["models"] as? [[String: Any]] ?? []
        XCTAssertEqual(models.first { $0["name"] as? String == "monthly_funnel" }?["rows"] as? Int, raw.monthlyFunnel().count)

        // The development commands: the graph, and a selection built on its own.
        let list = try h.run(["models", "list", "mentoring_marts"])
        XCTAssertEqual(list.status, 0, list.stderr)
        XCTAssertTrue(list.stdout.contains("marts/monthly_funnel  [table]  <- stg_appointments, stg_conversations, stg_users"), list.stdout)
        XCTAssertTrue(list.stdout.contains("intermediate/int_reply_delays  [ephemeral]  <- stg_conversations"), list.stdout)
        let selected = try h.run(["models", "run", "mentoring_marts", "models", "--date", Self.days[2], "--select", "+monthly_funnel"])
        XCTAssertEqual(selected.status, 0, selected.stderr)
        XCTAssertTrue(selected.stdout.contains("13 models, 4 selected (--select +monthly_funnel)"), selected.stdout)
        XCTAssertFalse(selected.stdout.contains("OK marts/students_usage"), selected.stdout)
        XCTAssertEqual(try Self.dump(warehouse), marts, "rebuilding a selection changes nothing")

        // The DAG's page draws the model graph of the last run, with each model's rows and tests.
        XCTAssertEqual(try h.run(["dags", "pause", "mentoring_marts"]).status, 0)
        try h.startDaemon()
        let page = try HTTPClient().get(try XCTUnwrap(h.webURL) + "dags/mentoring_marts")
        let taskPage = try HTTPClient().get(try XCTUnwrap(h.webURL) + "dags/mentoring_marts/runs/\(HTTPClient.encoded("backfill__\(Self.days[2])T00:00:00Z"))/tasks/models")
        h.stopDaemon()
        XCTAssertEqual(taskPage.status, 200)
        XCTAssertTrue(taskPage.body.contains("warning: models.run: test professional_has_one_profile on stg_professional_profiles, stg_users warns: 1 failing row"), taskPage.body)
        XCTAssertTrue(taskPage.body.contains("<tr><th>professional_id</th><th>profiles</th><th>profiles_without_job_title</th></tr><tr><td>\(professional)</td><td>2</td><td>0</td></tr>"), taskPage.body)
        XCTAssertEqual(page.status, 200)
        XCTAssertTrue(page.body.contains("<h2>Models of <a href=\"/dags/mentoring_marts/runs/"), page.body)
        XCTAssertTrue(page.body.contains("data-model=\"monthly_funnel\" data-state=\"success\""), page.body)
        XCTAssertTrue(page.body.contains("data-model=\"mentoring.conversations\""), "sources are drawn too")
        let funnelRows = raw.monthlyFunnel().count
        XCTAssertTrue(page.body.contains("<td>monthly_funnel</td><td>marts</td><td>table</td><td><span class=\"state success\">success</span></td><td>\(funnelRows)</td><td>3 pass</td>"), page.body)
        XCTAssertTrue(page.body.contains("<td>4 pass, 2 warn: exact_duplicates_removed, professional_has_one_profile</td>"), page.body)

        let reset = try h.run(["backfill", "mentoring_marts", "--start", Self.days[0], "--end", Self.days[2], "--reset"])
        XCTAssertEqual(reset.status, 0, reset.stderr)
        XCTAssertEqual(try Self.dump(warehouse), marts, "a --reset backfill builds the same marts")
    }

    /// Out of the box: scripts/run writes the last three days' snapshots and catches them up before the daemon.
    func testScriptsRunWritesTheSampleAndBuildsTheMarts() throws {
        let h = try Harness()
        let dags = ShopLakeTests.repository.appendingPathComponent("dags")
        for name in ["mentoring_marts.yaml", "mentoring_marts"] {
            try FileManager.default.copyItem(at: dags.appendingPathComponent(name), to: h.dags.appendingPathComponent(name))
        }
        let setup = Process()
        setup.executableURL = ShopLakeTests.repository.appendingPathComponent("scripts/run")
        setup.arguments = ["--setup-only"]
        var environment = h.environment
        environment["ORCHESTRATOR_BIN"] = Harness.orchestrator
        setup.environment = environment
        let log = h.root.appendingPathComponent("setup.log")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        setup.standardOutput = try FileHandle(forWritingTo: log)
        setup.standardError = setup.standardOutput
        try setup.run()
        setup.waitUntilExit()
        let setupLog = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        XCTAssertEqual(setup.terminationStatus, 0, setupLog)
        XCTAssertTrue(setupLog.contains("catching up mentoring_marts"), setupLog)
        XCTAssertEqual(try h.runStates(dag: "mentoring_marts"), ["success", "success", "success"], setupLog)
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyy-MM-dd"
        formatter.timeZone = TimeZone(secondsFromGMT: 0)
        let yesterday = formatter.string(from: Date().addingTimeInterval(-86_400))
        let raw = try RawSnapshot(folder: h.path("data/mentoring/\(yesterday)"))
        let marts = try Self.dump(try DatabaseQueue(path: h.home.appendingPathComponent("warehouse.db").path))
        XCTAssertEqual(marts["students_usage"], raw.studentsUsage())
        XCTAssertEqual(marts["daily_snapshot_stats"]?.count, 3)
    }

    /// The newest result.json of the models task (the last day's run).
    static func latestResult(_ h: Harness) throws -> [String: Any]? {
        guard let enumerator = FileManager.default.enumerator(atPath: h.home.appendingPathComponent("logs/mentoring_marts").path) else { return nil }
        let files = enumerator.compactMap { $0 as? String }.filter { $0.contains("2024-03-03") && $0.contains("models") && $0.hasSuffix(".result.json") }.sorted()
        guard let last = files.last else { return nil }
        let data = try Data(contentsOf: h.home.appendingPathComponent("logs/mentoring_marts/\(last)"))
        return try JSONSerialization.jsonObject(with: data) as? [String: Any]
    }

    /// Every mart's rows as text, sorted by their first column (numbers without a trailing `.0`).
    static func dump(_ queue: DatabaseQueue) throws -> [String: [[String]]] {
        let keys = ["monthly_funnel": "month", "professionals_usage": "professional_id", "students_usage": "student_id", "daily_snapshot_stats": "ds"]
        var tables: [String: [[String]]] = [:]
        try queue.read { db in
            for (table, key) in keys {
                tables[table] = try Row.fetchAll(db, sql: "SELECT * FROM \(table) ORDER BY \(key)").map { row in
                    row.databaseValues.map { value -> String in
                        switch value.storage {
                        case .null: return "NULL"
                        case .int64(let number): return "\(number)"
                        case .double(let number): return RawSnapshot.number(number)
                        case .string(let text): return text
                        case .blob: return "blob"
                        }
                    }
                }
            }
        }
        return tables
    }
}

/// One day's export read the plain way: exact duplicate lines dropped, fields trimmed, categories lowercased,
/// ids as numbers; the marts' values computed from it with Foundation's Decimal for the rounding.
struct RawSnapshot {
    struct User { let id: Int; let role: String; let schoolId: Int?; let signup: String }
    struct Profile { let id: Int; let user: Int; let jobTitle: String?; let company: String }
    struct Conversation { let id: Int; let student: Int; let professional: Int; let created: String; let reply: String? }
    struct Appointment { let id: Int; let conversation: Int; let scheduled: String; let status: String }

    var schools: [Int: String] = [:]
    var users: [User] = []
    var profiles: [Profile] = []
    var conversations: [Conversation] = []
    var appointments: [Appointment] = []
    var rawConversationRows = 0

    var students: [User] { users.filter { $0.role == "student" } }
    var professionals: [User] { users.filter { $0.role == "professional" } }

    init(folder: String) throws {
        func read(_ name: String) throws -> (rows: [[String]], raw: Int) {
            let lines = try String(contentsOfFile: "\(folder)/\(name).csv", encoding: .utf8).split(separator: "\n").dropFirst().map(String.init)
            var seen: Set<String> = []
            let unique = lines.filter { seen.insert($0).inserted }
            return (unique.map { $0.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) } }, lines.count)
        }
        func id(_ text: String) -> Int { Int(text) ?? -1 }
        for row in try read("schools").rows { schools[id(row[0])] = row[1] }
        users = try read("users").rows.map { User(id: id($0[0]), role: $0[1].lowercased(), schoolId: $0[5].isEmpty ? nil : id($0[5]), signup: $0[6]) }
        profiles = try read("professional_profiles").rows.map { Profile(id: id($0[0]), user: id($0[1]), jobTitle: $0[2].isEmpty ? nil : $0[2], company: $0[3]) }
        let conversationFile = try read("conversations")
        rawConversationRows = conversationFile.raw
        conversations = conversationFile.rows.map {
            Conversation(id: id($0[0]), student: id($0[1]), professional: id($0[2]), created: $0[3], reply: $0[4].isEmpty ? nil : $0[4])
        }
        appointments = try read("appointments").rows.map { Appointment(id: id($0[0]), conversation: id($0[1]), scheduled: $0[2], status: $0[3].lowercased()) }
    }

    static func number(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(value)
    }

    /// `numerator / denominator` rounded half up to `places` decimals, as text.
    static func rounded(_ numerator: Int, _ denominator: Int, places: Int) -> String {
        let scale = [1, 10, 100, 1000, 10_000][places]
        var exact = Decimal(numerator * scale) / Decimal(denominator)
        var whole = Decimal()
        NSDecimalRound(&whole, &exact, 0, .plain)
        // As the warehouse stores it: the nearest double to whole / scale.
        return number(Double(NSDecimalNumber(decimal: whole).intValue) / Double(scale))
    }

    static func seconds(_ timestamp: String) -> Int {
        let formatter = ISO8601DateFormatter()
        return Int(formatter.date(from: timestamp)?.timeIntervalSince1970 ?? .nan)
    }

    var professionalsWithTwoProfiles: [Int] {
        Dictionary(grouping: profiles, by: \.user).filter { $0.value.count == 2 }.keys.sorted()
    }

    var completedAppointments: [Appointment] { appointments.filter { $0.status == "completed" } }

    func monthlyFunnel() -> [[String]] {
        func index(_ text: String) -> Int { (Int(text.prefix(4)) ?? 0) * 12 + (Int(text.dropFirst(5).prefix(2)) ?? 0) - 1 }
        let activity = users.map(\.signup) + conversations.map(\.created) + conversations.compactMap(\.reply) + appointments.map(\.scheduled)
        guard let first = users.map({ index($0.signup) }).min(), let last = activity.map(index).max() else { return [] }
        return (first...last).map { month in
            let label = String(format: "%04d-%02d", month / 12, month % 12 + 1)
            let started = conversations.filter { $0.created.hasPrefix(label) }
            let replied = started.filter { $0.reply != nil }.count
            let completed = completedAppointments.filter { $0.scheduled.hasPrefix(label) }.count
            return [label, "\(students.filter { $0.signup.hasPrefix(label) }.count)", "\(professionals.filter { $0.signup.hasPrefix(label) }.count)",
                    "\(started.count)", "\(replied)", "\(completed)",
                    started.isEmpty ? "0" : Self.rounded(replied, started.count, places: 4),
                    started.isEmpty ? "0" : Self.rounded(completed, started.count, places: 4)]
        }
    }

    func professionalsUsage() -> [[String]] {
        let conversationById = Dictionary(conversations.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        return professionals.sorted { $0.id < $1.id }.map { professional in
            let profile = profiles.filter { $0.user == professional.id }.max { $0.id < $1.id }
            let received = conversations.filter { $0.professional == professional.id }
            let replied = received.filter { $0.reply != nil }
            let delay = replied.reduce(0) { $0 + Self.seconds($1.reply ?? "") - Self.seconds($1.created) }
            let completed = completedAppointments.filter { conversationById[$0.conversation]?.professional == professional.id }.count
            return ["\(professional.id)", profile?.jobTitle ?? "NULL", profile?.company ?? "NULL", "\(received.count)", "\(replied.count)",
                    replied.isEmpty ? "NULL" : Self.rounded(delay, replied.count * 3600, places: 1), "\(completed)",
                    received.map(\.created).max() ?? "NULL"]
        }
    }

    func studentsUsage() -> [[String]] {
        let conversationById = Dictionary(conversations.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        return students.sorted { $0.id < $1.id }.map { student in
            let started = conversations.filter { $0.student == student.id }
            let completed = completedAppointments.filter { conversationById[$0.conversation]?.student == student.id }.count
            return ["\(student.id)", student.schoolId.flatMap { schools[$0] } ?? "NULL", "\(started.count)", "\(Set(started.map(\.professional)).count)",
                    "\(completed)", started.map(\.created).min() ?? "NULL"]
        }
    }
}

/// The same project built on PostgreSQL (`orchestrator models run … --target`), from the same bronze snapshot:
/// the marts hold the values computed from the raw files, as on SQLite.
final class MentoringMartsPostgresTests: PostgresTestCase {
    func testTheMartsOnPostgreSQLMatchTheRawSnapshot() throws {
        let h = try MentoringMartsTests.makeHarness()
        let day = MentoringMartsTests.days[2]
        let extract = try h.run(["backfill", "mentoring_marts", "--start", day, "--end", day])
        XCTAssertEqual(extract.status, 0, extract.stderr)
        h.extraEnvironment["ORCHESTRATOR_CONN_PG"] = databaseURL
        let built = try h.run(["models", "run", "mentoring_marts", "models", "--date", day, "--target", "pg"])
        XCTAssertEqual(built.status, 0, built.stdout + built.stderr)
        XCTAssertTrue(built.stdout.contains("on postgres postgres://"), built.stdout)
        XCTAssertFalse(built.stdout.contains("Sup3rSecretPw"), "the password never reaches the log")
        let raw = try RawSnapshot(folder: h.path("data/mentoring/\(day)"))
        func table(_ sql: String) throws -> [String] { try psql(databaseURL, sql).split(separator: "\n").map(String.init) }
        func lines(_ rows: [[String]]) -> [String] { rows.map { $0.map { $0 == "NULL" ? "" : $0 }.joined(separator: "|") } }
        XCTAssertEqual(try table("SELECT * FROM monthly_funnel ORDER BY month"), lines(raw.monthlyFunnel()))
        XCTAssertEqual(try table("SELECT * FROM professionals_usage ORDER BY professional_id"), lines(raw.professionalsUsage()))
        XCTAssertEqual(try table("SELECT * FROM students_usage ORDER BY student_id"), lines(raw.studentsUsage()))
    }
}
