import Foundation

extension SaasGenerator {
    /// Writes week `number`'s events.csv (streamed: a bench week holds a million rows); returns the rows written.
    /// The week's task creations and completions come first, as the app logs them, then the users' other events.
    func writeEvents(world: World, week number: Int, to path: String) throws -> Int {
        let start = Self.epoch + number * Self.week, end = start + Self.week
        var random = ShopGenerator.Random(state: seed ^ (UInt64(number) &* 0x9FB2_1C65_1E98_DF25) ^ 0xE7E7_0002)
        let writer = try EventWriter(path: path)
        var nextId = number * Self.eventIdStride + 1

        func emit(user: Int, type: String, at instant: Int, task: Int?) throws {
            var fields = [String(nextId), String(user), type, Self.stamp(instant, &random), task.map(String.init) ?? ""]
            if random.chance(dirtiness) {
                switch random.int(0..<4) {
                case 0: fields[1] = String(Self.unknownUserBase + nextId % 1_000_000)      // unknown user: rejected
                case 1: fields[3] = Self.stamp(end + 86_400 + random.int(0..<(400 * 86_400)), &random)  // in the future
                case 2: fields[2] = " \(type.uppercased())"                                // case and space: cleaned
                default: fields[2] = "signup"                                              // unknown type: rejected
                }
            }
            nextId += 1
            let line = fields.joined(separator: ",")
            try writer.append(line)
            if random.chance(dirtiness / 2) { try writer.append(line) }                 // exact duplicate
        }

        var logged = 0
        for task in world.tasks(fromWeek: number - 3) {
            if task.created >= start && task.created < end {
                try emit(user: task.createdBy, type: "task_created", at: task.created, task: task.id)
                logged += 1
            }
            if task.defect == .none, let completed = task.completed, completed >= start, completed < end {
                try emit(user: task.assignee ?? task.createdBy, type: "task_completed", at: completed, task: task.id)
                logged += 1
            }
        }
        let active = world.activeUsers(week: number, end: end, random: &random)
        let olderTasks = world.tasks.prefix { $0.created < start }
        if !active.isEmpty {
            for _ in 0..<max(0, sizes.eventsPerWeek - logged) {
                let user = random.pick(active)
                let from = max(start, user.created)
                let instant = from + random.int(0..<(end - from))
                let draw = random.int(0..<100)
                if draw < 25 {
                    try emit(user: user.id, type: "login", at: instant, task: nil)
                } else if draw < 80 || olderTasks.isEmpty {
                    try emit(user: user.id, type: "page_view", at: instant, task: nil)
                } else {
                    let task = olderTasks[olderTasks.startIndex + random.int(0..<olderTasks.count)]
                    try emit(user: user.id, type: "comment_added", at: instant, task: task.id)
                }
            }
        }
        try writer.finish()
        return writer.rows
    }
}

extension SaasGenerator {
/// Appends lines to a temporary file in 1 MiB chunks, then renames it into place: a reader never sees half a file.
final class EventWriter {
    let path: String
    private let temporary: String
    private let handle: FileHandle
    private var chunk: [UInt8] = []
    private(set) var rows = 0

    init(path: String) throws {
        self.path = path
        temporary = path + ".part"
        guard FileManager.default.createFile(atPath: temporary, contents: nil), let handle = FileHandle(forWritingAtPath: temporary) else {
            throw SaasGeneratorError("cannot write \(temporary)")
        }
        self.handle = handle
        chunk.reserveCapacity(1 << 20)
        append(header: "event_id,user_id,event_type,occurred_at,task_id")
    }

    private func append(header: String) {
        chunk.append(contentsOf: header.utf8)
        chunk.append(0x0A)
    }

    func append(_ line: String) throws {
        chunk.append(contentsOf: line.utf8)
        chunk.append(0x0A)
        rows += 1
        if chunk.count >= 1 << 20 { try flush() }
    }

    private func flush() throws {
        try handle.write(contentsOf: chunk)
        chunk.removeAll(keepingCapacity: true)
    }

    func finish() throws {
        try flush()
        try handle.close()
        guard rename(temporary, path) == 0 else { throw SaasGeneratorError("cannot rename \(temporary) to \(path): errno \(errno)") }
    }
}
}
