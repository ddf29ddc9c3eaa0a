import Foundation

extension SaasGenerator {
    /// The product's entities from week 0 on, grown a week at a time; each week's draws come from a random
    /// stream of its own (seed and week number), so earlier weeks never depend on how far the world was grown.
    struct World {
        struct Account { let id: Int, name: String, plan: String, created: Int }
        struct User { let id: Int, account: Int, email: String, role: String, created: Int, lastActiveWeek: Int }
        struct Project { let id: Int, account: Int, name: String, created: Int }
        enum TaskDefect { case none, completedBeforeCreated, futureCompletion }
        struct Task {
            let id: Int, project: Int, createdBy: Int, assignee: Int?, priority: String, created: Int
            /// When it was really done (nil: not done yet, whatever the snapshot), or the bad instant of a defect.
            let completed: Int?
            let defect: TaskDefect
        }

        let sizes: Sizes
        let seed: UInt64
        let dirtiness: Double
        private(set) var accounts: [Account] = []
        private(set) var users: [User] = []
        private(set) var projects: [Project] = []
        private(set) var tasks: [Task] = []
        /// Indexes into `users`, by account id.
        private var usersOfAccount: [Int: [Int]] = [:]
        /// Where each week's tasks start in `tasks`.
        private(set) var firstTaskOfWeek: [Int] = []
        private(set) var grownThrough = -1

        init(sizes: Sizes, seed: UInt64, dirtiness: Double) {
            self.sizes = sizes
            self.seed = seed
            self.dirtiness = dirtiness
        }

        mutating func grow(through number: Int) {
            while grownThrough < number {
                grownThrough += 1
                addWeek(grownThrough)
            }
        }

        /// Week 0 staggers its days (accounts on Monday, users and projects from Tuesday, tasks from Wednesday)
        /// so children come after their parents; later weeks pick parents of earlier weeks.
        private mutating func addWeek(_ number: Int) {
            let start = SaasGenerator.epoch + number * SaasGenerator.week
            let day = 86_400
            var random = ShopGenerator.Random(state: seed ^ (UInt64(number) &* 0xD1B5_4A32_D192_ED03) ^ 0x5AA5_0001)
            let firstWeek = number == 0
            func instant(from dayOffset: Int) -> Int {
                firstWeek ? start + dayOffset * day + random.int(0..<((7 - dayOffset) * day)) : start + random.int(0..<SaasGenerator.week)
            }

            let accountsBefore = accounts.count
            for index in 0..<sizes.accountsPerWeek {
                let id = number * sizes.accountsPerWeek + index + 1
                let created = firstWeek ? start + random.int(0..<day) : start + random.int(0..<SaasGenerator.week)
                accounts.append(Account(id: id, name: "\(random.pick(SaasGenerator.companyNames)) \(id)",
                                        plan: random.pick(SaasGenerator.plans), created: created))
            }
            let accountPool = firstWeek ? accounts.count : accountsBefore

            for index in 0..<sizes.usersPerWeek {
                let id = number * sizes.usersPerWeek + index + 1
                let account = accounts[random.int(0..<accountPool)].id
                let role = random.pick(SaasGenerator.roles)
                let lifetime = 1 + random.int(0..<20)  // weeks of use before the user drifts away
                usersOfAccount[account, default: []].append(users.count)
                users.append(User(id: id, account: account, email: "user\(id)@account\(account).example.com", role: role,
                                  created: instant(from: 1), lastActiveWeek: number + lifetime))
            }

            let projectsBefore = projects.count
            for index in 0..<sizes.projectsPerWeek {
                let id = number * sizes.projectsPerWeek + index + 1
                let account = accounts[random.int(0..<accountPool)].id
                let created = firstWeek ? start + day + random.int(0..<day) : start + random.int(0..<SaasGenerator.week)
                projects.append(Project(id: id, account: account, name: "Project \(id)", created: created))
            }
            let projectPool = firstWeek ? projects.count : projectsBefore

            firstTaskOfWeek.append(tasks.count)
            for index in 0..<sizes.tasksPerWeek {
                let id = number * sizes.tasksPerWeek + index + 1
                let project = projects[random.int(0..<projectPool)]
                let created = instant(from: 2)
                var colleagues = (usersOfAccount[project.account] ?? []).filter { users[$0].created < created }
                if colleagues.isEmpty { colleagues = users.indices.filter { users[$0].created < created } }
                guard !colleagues.isEmpty else { continue }
                let createdBy = users[random.pick(colleagues)].id
                let assignee = random.chance(0.08) ? nil : users[random.pick(colleagues)].id
                var completed = random.chance(0.7) ? created + 3_600 + random.int(0..<(14 * day)) : nil
                var defect = TaskDefect.none
                if random.chance(dirtiness) {
                    if random.chance(0.5) {
                        defect = .completedBeforeCreated
                        completed = created - 3_600 - random.int(0..<(2 * day))
                    } else {
                        defect = .futureCompletion
                    }
                }
                tasks.append(Task(id: id, project: project.id, createdBy: createdBy, assignee: assignee,
                                  priority: random.pick(SaasGenerator.priorities), created: created, completed: completed, defect: defect))
            }
        }

        // MARK: Snapshots at the end of a week

        func accountLines(before end: Int, random: inout ShopGenerator.Random) -> [String] {
            ["account_id,account_name,plan,created_at"] + accounts.filter { $0.created < end }.map { account in
                let plan = random.chance(dirtiness) ? account.plan.capitalized : account.plan  // cleaned: lowercase
                return "\(account.id),\(SaasGenerator.csvField(account.name)),\(plan),\(SaasGenerator.stamp(account.created, &random))"
            }
        }

        func userLines(before end: Int, random: inout ShopGenerator.Random) -> [String] {
            ["user_id,account_id,email,role,created_at"] + users.filter { $0.created < end }.map { user in
                "\(user.id),\(user.account),\(user.email),\(user.role),\(SaasGenerator.stamp(user.created, &random))"
            }
        }

        func projectLines(before end: Int, random: inout ShopGenerator.Random) -> [String] {
            ["project_id,account_id,project_name,created_at"] + projects.filter { $0.created < end }.map { project in
                "\(project.id),\(project.account),\(project.name),\(SaasGenerator.stamp(project.created, &random))"
            }
        }

        /// A task is done in a snapshot when it was completed before the snapshot's end; a task with a future
        /// completion defect shows as done with a completed_at after the end, until it is really done.
        func taskLines(before end: Int, random: inout ShopGenerator.Random) -> [String] {
            ["task_id,project_id,created_by,assignee_id,status,priority,created_at,completed_at"] + tasks.filter { $0.created < end }.map { task in
                var shown = task.completed.flatMap { $0 < end ? $0 : nil }
                if task.defect == .futureCompletion && shown == nil { shown = end + 86_400 * (1 + task.id % 90) }
                let status = shown != nil ? "done" : (task.id % 3 == 0 ? "todo" : "in_progress")
                let completedAt = shown.map { SaasGenerator.stamp($0, &random) } ?? ""
                return "\(task.id),\(task.project),\(task.createdBy),\(task.assignee.map(String.init) ?? ""),\(status),\(task.priority),"
                    + "\(SaasGenerator.stamp(task.created, &random)),\(completedAt)"
            }
        }

        /// Users who use the product in week `number`: created by its end, not yet drifted away, and (most weeks) back.
        func activeUsers(week number: Int, end: Int, random: inout ShopGenerator.Random) -> [User] {
            users.filter { user in
                user.created < end && user.lastActiveWeek >= number && random.chance(0.85)
            }
        }

        /// The tasks created from week `first` on (those that may be completed in a later week).
        func tasks(fromWeek first: Int) -> ArraySlice<Task> {
            let start = first <= 0 ? 0 : (first < firstTaskOfWeek.count ? firstTaskOfWeek[first] : tasks.count)
            return tasks[start...]
        }
    }
}
