import Foundation

/// A mentoring marketplace's daily export, as its app dumps it: students write to professionals about their
/// careers, professionals reply, some conversations lead to appointments. Each day's folder `OUT/<ds>/` is a full
/// snapshot of the five tables as of the end of that day (UTC): `schools.csv`, `users.csv`,
/// `professional_profiles.csv`, `conversations.csv`, `appointments.csv`.
///
/// The platform's history starts on 2024-01-01; each day's events depend only on the seed and that day, so a
/// snapshot is the same whatever window is generated. The export is dirty the way such dumps are: one
/// conversation appears twice (an exact duplicate row), roles, statuses, school types, names and emails in
/// mixed case with stray spaces, a professional with two profiles, and ids written as text (leading zeros,
/// spaces) in the reference columns.
public struct MentoringGenerator {
    public let output: String
    public let start: Date
    public let days: Int
    public let seed: UInt64
    /// Multiplies the daily signups and conversations (benchmarks); 1 is the example's size.
    public let scale: Int

    /// 2024-01-01 as days since 1970: the platform's first day.
    static let originDay = 19_723
    static let schools: [(name: String, city: String, type: String)] = [
        ("Lycée Victor Hugo", "Paris", "High School"), ("Université Lumière", " Lyon", "university"),
        ("ESC Atlantique", "Nantes ", "BUSINESS SCHOOL"), ("Lycée Montesquieu", "Bordeaux", "high school"),
        ("INSA Garonne", "Toulouse", "Engineering School"), ("Université du Nord", "Lille", "University "),
        ("École des Arts", "Marseille", "art school"), ("IUT Rhône", "Lyon", " University"),
    ]
    static let jobs: [(title: String, company: String, sector: String)] = [
        ("Data Analyst", "Mirakl", "Tech"), ("Nurse", "AP-HP", "Health"), ("Software Engineer", "Doctolib", "Tech"),
        ("Lawyer", "Gide", "Legal"), ("Architect", "Wilmotte", "Construction"), ("Journalist", "Le Monde", "Media"),
        ("Product Manager", "BlaBlaCar", "Tech"), ("Chef", "Ducasse", "Hospitality"), ("Pilot", "Air France", "Transport"),
    ]
    static let firstNames = ["Léa", "Hugo", "Chloé", "Nathan", "Inès", "Lucas", "Manon", "Yanis", "Camille", "Louis", "Sarah", "Adam"]
    static let lastNames = ["Martin", "Bernard", "Petit", "Durand", "Leroy", "Moreau", "Simon", "Laurent", "Lefebvre", "Garcia"]
    /// The conversation the export writes twice.
    static let duplicatedConversation = 11
    /// The professional (by number among professionals) who has a second profile, with a higher profile id.
    static let professionalWithTwoProfiles = 3

    public init(output: String, start: Date, days: Int, seed: UInt64 = 7, scale: Int = 1) {
        self.scale = max(1, scale)
        self.output = output
        self.start = start
        self.days = days
        self.seed = seed
    }

    struct User { let id: Int; let isStudent: Bool; let schoolId: Int?; let signup: Int; let first: String; let last: String }
    struct Conversation { let id: Int; let student: Int; let professional: Int; let created: Int; let reply: Int? }
    struct Appointment { let id: Int; let conversation: Int; let scheduled: Int; let status: String }
    struct Profile { let id: Int; let user: Int; let created: Int; let job: Int }

    /// The platform's history up to the end of `lastDay` (days since 1970).
    struct History {
        var users: [User] = []
        var profiles: [Profile] = []
        var conversations: [Conversation] = []
        var appointments: [Appointment] = []
    }

    func history(through lastDay: Int) -> History {
        var history = History()
        var professionals: [Int] = []
        var students: [Int] = []
        for day in Self.originDay...max(Self.originDay, lastDay) {
            var random = ShopGenerator.Random(state: seed &* 0x9E37_79B9 ^ UInt64(day) &* 0x1000_0003)
            let dayStart = day * 86_400
            let newStudents = random.int(0..<(3 * scale))
            var newProfessionals = (0..<scale).filter { _ in random.chance(0.35) }.count
            if newProfessionals == 0 && professionals.isEmpty { newProfessionals = 1 }
            for index in 0..<(newStudents + newProfessionals) {
                let isStudent = index < newStudents
                let id = history.users.count + 1
                history.users.append(User(id: id, isStudent: isStudent, schoolId: isStudent ? random.int(0..<Self.schools.count) + 1 : nil,
                                          signup: dayStart + random.int(0..<86_400), first: random.pick(Self.firstNames), last: random.pick(Self.lastNames)))
                if isStudent { students.append(id) } else {
                    professionals.append(id)
                    let user = history.users[id - 1]
                    history.profiles.append(Profile(id: history.profiles.count + 1, user: id, created: user.signup, job: random.int(0..<Self.jobs.count)))
                    if professionals.count == Self.professionalWithTwoProfiles + 2 {
                        // A professional changed jobs and the app kept both profiles.
                        let changer = professionals[Self.professionalWithTwoProfiles - 1]
                        history.profiles.append(Profile(id: history.profiles.count + 1, user: changer, created: user.signup + 60, job: random.int(0..<Self.jobs.count)))
                    }
                }
            }
            guard !students.isEmpty else { continue }
            for _ in 0..<random.int(0..<(4 * scale)) {
                // Conversations start after both users signed up.
                let created = dayStart + random.int(0..<86_400)
                let student = random.pick(students), professional = random.pick(professionals)
                guard history.users[student - 1].signup < created, history.users[professional - 1].signup < created else { continue }
                let reply = random.chance(0.7) ? created + random.int(600..<(96 * 3600)) : nil
                let id = history.conversations.count + 1
                history.conversations.append(Conversation(id: id, student: student, professional: professional, created: created, reply: reply))
                if let reply, random.chance(0.55) {
                    let scheduled = reply + random.int(3600..<(10 * 86_400))
                    let status = random.chance(0.6) ? "completed" : (random.chance(0.6) ? "cancelled" : "no_show")
                    history.appointments.append(Appointment(id: history.appointments.count + 1, conversation: id, scheduled: scheduled, status: status))
                }
            }
        }
        return history
    }

    /// Writes one snapshot folder per day; returns the conversation rows of the last one.
    @discardableResult
    public func generate() throws -> Int {
        // Before the platform opened there is nothing to export: such days get the first day's (empty) state.
        let firstDay = max(Self.originDay, Int(start.timeIntervalSince1970).floorDivided(by: 86_400))
        let full = history(through: firstDay + days - 1)
        var written = 0
        for day in firstDay..<(firstDay + days) {
            written = try writeSnapshot(full, endOfDay: (day + 1) * 86_400, folder: "\(output)/\(IsoTimestamp.civil(day * 86_400).prefix(10))")
        }
        return written
    }

    func writeSnapshot(_ history: History, endOfDay end: Int, folder: String) throws -> Int {
        var random = ShopGenerator.Random(state: seed ^ UInt64(end))
        func stamp(_ seconds: Int) -> String { IsoTimestamp.civil(seconds, separator: "T") + "Z" }
        /// Ids in reference columns as the export writes them: mostly plain, some zero-padded or spaced.
        func textId(_ id: Int) -> String {
            switch id % 7 {
            case 3: return String(format: "%05d", id)
            case 5: return " \(id) "
            default: return "\(id)"
            }
        }
        func messy(_ text: String, _ id: Int) -> String {
            switch id % 5 {
            case 1: return text.uppercased()
            case 2: return " \(text)"
            case 3: return text.capitalized + " "
            default: return text
            }
        }
        let schools = Self.schools.enumerated().map { index, school in ["\(index + 1)", school.name, school.city, school.type] }
        let users = history.users.filter { $0.signup < end }
        let userRows = users.map { user -> [String] in
            let role = messy(user.isStudent ? "student" : "professional", user.id + Int(random.int(0..<2)))
            // ASCII, as addresses mostly are: SQLite's LOWER folds ASCII letters only.
            let email = "\(user.first).\(user.last).\(user.id)@example.org".folding(options: .diacriticInsensitive, locale: nil).lowercased()
            return ["\(user.id)", role, user.id % 6 == 0 ? " \(user.first)" : user.first, user.last,
                    user.id % 4 == 0 ? email.uppercased() : email, user.schoolId.map(textId) ?? "", IsoTimestamp.civil(user.signup).prefix(10).description]
        }
        let profiles = history.profiles.filter { $0.created < end }.map { profile -> [String] in
            let job = Self.jobs[profile.job]
            return ["\(profile.id)", textId(profile.user), profile.id % 3 == 0 ? job.title.lowercased() : job.title, job.company, job.sector]
        }
        var conversations: [[String]] = []
        for conversation in history.conversations where conversation.created < end {
            let reply = conversation.reply.flatMap { $0 < end ? stamp($0) : nil } ?? ""
            let row = ["\(conversation.id)", textId(conversation.student), textId(conversation.professional), stamp(conversation.created), reply]
            conversations.append(row)
            if conversation.id == Self.duplicatedConversation { conversations.append(row) }
        }
        let appointments = history.appointments.filter { $0.scheduled < end }.map { appointment -> [String] in
            ["\(appointment.id)", textId(appointment.conversation), stamp(appointment.scheduled), messy(appointment.status, appointment.id)]
        }
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        // Written last to first by dependency, conversations.csv last: a folder with it is complete.
        let tables: [(String, [String], [[String]])] = [
            ("schools", ["school_id", "school_name", "city", "school_type"], schools),
            ("users", ["user_id", "role", "first_name", "last_name", "email", "school_id", "signup_date"], userRows),
            ("professional_profiles", ["profile_id", "user_id", "job_title", "company", "sector"], profiles),
            ("appointments", ["appointment_id", "conversation_id", "scheduled_at", "status"], appointments),
            ("conversations", ["conversation_id", "student_id", "professional_id", "created_at", "first_reply_at"], conversations),
        ]
        for (name, header, rows) in tables {
            var table = SocialGenerator.Table(header: header)
            for row in rows { table.add(row) }
            try SocialGenerator.write(table, to: "\(folder)/\(name).csv")
        }
        return conversations.count
    }
}
