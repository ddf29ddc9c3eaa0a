import Foundation

/// Source data of the `social_elt` example: the tables of a social app, as CSV files to load into
/// PostgreSQL (`schema.sql` + one `<table>.csv` each; `scripts/seed-social` loads them with psql), dirty on
/// purpose: users without email, duplicated rows, negative and non-numeric amounts, unknown currencies,
/// unknown event types, timestamps written with other offsets than UTC, sessions without an end or ending
/// after midnight.
///
/// Ids are UUIDs, as in the app it models (users.id, user_id, notification_id, message_id, purchase_id,
/// session_id); groups, activities and notification states keep integer ids. It writes no answer key: tests
/// compute the gold tables from these raw tables, independently. Deterministic for a seed.
public struct SocialGenerator {
    public var output: String
    public var start: Date
    public var days: Int
    public var users: Int
    public var seed: UInt64

    public init(output: String, start: Date, days: Int, users: Int, seed: UInt64 = 11) {
        self.output = output
        self.start = start
        self.days = days
        self.users = users
        self.seed = seed
    }

    /// Rates shipped with the DAG (`dags/social_elt/rates.csv`): EUR per unit.
    public static let rates: [String: Double] = ["EUR": 1.0, "USD": 0.92, "GBP": 1.17]

    public static let schema = """
        DROP TABLE IF EXISTS users, groups, groups_users, activities, notification_states, group_messages,
            user_notifications, user_purchases, user_session_events CASCADE;
        CREATE TABLE users (id uuid, first_name text, last_name text, email text, password text,
            created_at timestamptz, updated_at timestamptz);
        CREATE TABLE groups (id int, name text, created_at timestamptz);
        CREATE TABLE groups_users (group_id int, user_id uuid);
        CREATE TABLE activities (id int, user_id uuid, activity_type text, created_at timestamptz);
        CREATE TABLE notification_states (id int, user_id uuid, notification_id uuid, status text, updated_at timestamptz);
        CREATE TABLE group_messages (group_id int, created_at timestamptz, message_id uuid, user_id uuid, content text);
        CREATE TABLE user_notifications (user_id uuid, notification_time timestamptz, notification_id uuid, content text,
            state text, modified_at timestamptz);
        CREATE TABLE user_purchases (user_id uuid, purchase_time timestamptz, purchase_id uuid, product_type text,
            amount text, currency text);
        CREATE TABLE user_session_events (user_id uuid, event_time timestamptz, session_id uuid, event_type text);
        """

    struct Table {
        var header: [String]
        var rows: [[String]] = []
        mutating func add(_ row: [String]) { rows.append(row) }
    }

    /// The version 4 UUID of the `number`th user, session, message… (`kind` tells them apart): a function of
    /// the seed, the kind and the number, so the same seed gives the same ids.
    func uuid(_ kind: UInt64, _ number: Int) -> String {
        var random = ShopGenerator.Random(state: seed &* 0x1000_0001 ^ (kind << 48) ^ UInt64(number))
        let high = random.next(), low = random.next()
        let hex = String(format: "%016llx%016llx", (high & ~0xF000) | 0x4000, (low & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000)
        let characters = Array(hex)
        return [0..<8, 8..<12, 12..<16, 16..<20, 20..<32].map { String(characters[$0]) }.joined(separator: "-")
    }

    /// Writes `schema.sql` and the tables' CSV files.
    public func generate() throws {
        var random = ShopGenerator.Random(state: seed)
        var tables: [String: Table] = [
            "users": Table(header: ["id", "first_name", "last_name", "email", "password", "created_at", "updated_at"]),
            "groups": Table(header: ["id", "name", "created_at"]),
            "groups_users": Table(header: ["group_id", "user_id"]),
            "activities": Table(header: ["id", "user_id", "activity_type", "created_at"]),
            "notification_states": Table(header: ["id", "user_id", "notification_id", "status", "updated_at"]),
            "group_messages": Table(header: ["group_id", "created_at", "message_id", "user_id", "content"]),
            "user_notifications": Table(header: ["user_id", "notification_time", "notification_id", "content", "state", "modified_at"]),
            "user_purchases": Table(header: ["user_id", "purchase_time", "purchase_id", "product_type", "amount", "currency"]),
            "user_session_events": Table(header: ["user_id", "event_time", "session_id", "event_type"]),
        ]
        let base = Int(start.timeIntervalSince1970)
        func user(_ number: Int) -> String { uuid(1, number) }
        func stamp(_ seconds: Int, offsetHours: Int = 0) -> String {
            // The same instant written with another offset, as some source systems do.
            let local = IsoTimestamp.civil(seconds + offsetHours * 3600)
            let sign = offsetHours < 0 ? "-" : "+"
            return "\(local)\(sign)\(String(format: "%02d", abs(offsetHours))):00"
        }
        for id in 1...users {
            let hasEmail = random.int(0..<100) >= 8
            let created = stamp(base - 86_400 * random.int(1..<300))
            let email = hasEmail ? (random.chance(0.1) ? "  User\(id)@Example.COM " : "user\(id)@example.com") : ""
            tables["users"]?.add([user(id), "First\(id)", "Last, \(id)", email, "hash$\(random.next() % 100_000)", created, created])
            if random.chance(0.05), let last = tables["users"]?.rows.last { tables["users"]?.add(last) }  // exact duplicate
        }
        for group in 1...5 {
            tables["groups"]?.add([String(group), "Group \(group)", stamp(base - 86_400 * 400)])
            for userNumber in 1...users where random.chance(0.3) { tables["groups_users"]?.add([String(group), user(userNumber)]) }
        }
        var session = 0, message = 0, purchase = 0, notification = 0, state = 0, activity = 0
        for day in 0..<days {
            let dayStart = base + day * 86_400
            for userNumber in 1...users where random.chance(0.6) {
                // Sessions: start, page views, end (sometimes none, sometimes after midnight).
                for _ in 0..<random.int(0..<3) {
                    session += 1
                    let begin = dayStart + random.int(0..<80_000)
                    let length = random.int(60..<3_600)
                    let offset = random.chance(0.2) ? 2 : 0
                    tables["user_session_events"]?.add([user(userNumber), stamp(begin, offsetHours: offset), uuid(2, session), "session_start"])
                    tables["user_session_events"]?.add([user(userNumber), stamp(begin + length / 2), uuid(2, session), "page_view"])
                    if random.chance(0.05) {
                        tables["user_session_events"]?.add([user(userNumber), stamp(begin + length / 3), uuid(2, session), "login_v2"])  // unknown type
                    }
                    var end: Int? = begin + length
                    if random.chance(0.08) { end = nil }                                       // never ended
                    else if random.chance(0.05) { end = dayStart + 86_400 + random.int(10..<600) }  // ends after midnight
                    if let end { tables["user_session_events"]?.add([user(userNumber), stamp(end), uuid(2, session), "session_end"]) }
                }
                for _ in 0..<random.int(0..<3) {
                    message += 1
                    let time = dayStart + random.int(0..<86_000)
                    tables["group_messages"]?.add([String(random.int(1..<6)), stamp(time), uuid(3, message), user(userNumber),
                                                   "hello, \"world\"\nline \(message)"])
                }
                for _ in 0..<random.int(0..<2) {
                    purchase += 1
                    let time = dayStart + random.int(0..<86_000)
                    let currency = random.pick(["EUR", "USD", "GBP"])
                    var amount = String(format: "%.2f", Double(random.int(100..<20_000)) / 100)
                    switch random.int(0..<20) {
                    case 0: amount = "-" + amount
                    case 1: amount = "n/a"
                    case 2:
                        tables["user_purchases"]?.add([user(userNumber), stamp(time), uuid(4, purchase), "gems", amount, "XYZ"])
                        continue  // unknown currency: rejected
                    default: break
                    }
                    tables["user_purchases"]?.add([user(userNumber), stamp(time, offsetHours: random.chance(0.2) ? -5 : 0), uuid(4, purchase), "gems", amount, currency])
                }
                for _ in 0..<random.int(0..<2) {
                    notification += 1
                    // Before 22:00, so the hour after it stays within the day.
                    let time = dayStart + random.int(0..<79_000)
                    let opened = random.chance(0.5)
                    tables["user_notifications"]?.add([user(userNumber), stamp(time), uuid(5, notification), "Promo \(notification)", "sent", stamp(time)])
                    state += 1
                    tables["notification_states"]?.add([String(state), user(userNumber), uuid(5, notification), "delivered", stamp(time + 5)])
                    if opened {
                        state += 1
                        tables["notification_states"]?.add([String(state), user(userNumber), uuid(5, notification), "opened", stamp(time + random.int(10..<3_000))])
                        if random.chance(0.5) {  // a session soon after, counted as time spent after the notification
                            session += 1
                            let begin = time + random.int(60..<3_000)
                            let length = random.int(60..<1_200)
                            tables["user_session_events"]?.add([user(userNumber), stamp(begin), uuid(2, session), "session_start"])
                            tables["user_session_events"]?.add([user(userNumber), stamp(begin + length), uuid(2, session), "session_end"])
                        }
                    }
                }
                activity += 1
                tables["activities"]?.add([String(activity), user(userNumber), random.pick(["like", "share", "comment"]), stamp(dayStart + random.int(0..<86_000))])
            }
        }
        try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
        try Self.schema.write(toFile: "\(output)/schema.sql", atomically: true, encoding: .utf8)
        for (name, table) in tables { try Self.write(table, to: "\(output)/\(name).csv") }
    }

    static func write(_ table: Table, to path: String) throws {
        var text = table.header.joined(separator: ",") + "\n"
        for row in table.rows {
            text += row.map { field in
                field.contains(",") || field.contains("\"") || field.contains("\n")
                    ? "\"\(field.replacingOccurrences(of: "\"", with: "\"\""))\"" : field
            }.joined(separator: ",") + "\n"
        }
        try text.write(toFile: path, atomically: true, encoding: .utf8)
    }
}
