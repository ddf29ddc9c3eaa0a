import Foundation
import XCTest
@testable import Workflow

final class DagParserTests: XCTestCase {

    private let file = "dags/test_dag.yaml"

    private func utc(_ y: Int, _ mo: Int, _ d: Int, _ h: Int = 0, _ mi: Int = 0) -> Date {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(secondsFromGMT: 0) ?? .current
        return calendar.date(from: DateComponents(year: y, month: mo, day: d, hour: h, minute: mi)) ?? Date(timeIntervalSince1970: 0)
    }

    private func parse(_ text: String, file: StaticString = #filePath, line: UInt = #line) throws -> DAG {
        do {
            return try DagParser.parse(text: text, file: self.file)
        } catch {
            XCTFail("expected a valid DAG, got:\n\(error.description)", file: file, line: line)
            throw error
        }
    }

    /// The load error of `text`; fails the test when it parses.
    private func loadError(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> DagLoadError? {
        do {
            let dag = try DagParser.parse(text: text, file: self.file)
            XCTFail("expected an error, parsed DAG \(dag.dagId)", file: file, line: line)
            return nil
        } catch {
            return error
        }
    }

    /// Asserts that `text` fails with exactly one issue, at `line` for `field`, whose message is `message`,
    /// and that the error's description is `file:line: field: message`.
    @discardableResult
    private func assertSingleIssue(
        _ text: String, line expectedLine: Int?, field: String, message: String,
        file: StaticString = #filePath, line: UInt = #line
    ) -> DagLoadError? {
        guard let error = loadError(text, file: file, line: line) else { return nil }
        XCTAssertEqual(error.file, self.file, file: file, line: line)
        XCTAssertEqual(error.issues.count, 1, "issues:\n\(error.description)", file: file, line: line)
        guard let issue = error.issues.first else { return error }
        XCTAssertEqual(issue.line, expectedLine, "line of: \(issue)", file: file, line: line)
        XCTAssertEqual(issue.field, field, file: file, line: line)
        XCTAssertEqual(issue.message, message, file: file, line: line)
        let location = expectedLine.map { "\(self.file):\($0)" } ?? self.file
        let expected = field.isEmpty ? "\(location): \(message)" : "\(location): \(field): \(message)"
        XCTAssertEqual(error.description, expected, file: file, line: line)
        return error
    }

    // MARK: - Valid DAGs

    private let fullDag = """
        dag_id: social_elt
        description: Daily ELT of the social app into the warehouse
        schedule: "@daily"
        timezone: Europe/Paris
        start_date: 2024-01-01
        end_date: 2024-12-31T06:00
        catchup: false
        max_active_runs: 4
        max_active_tasks: 8
        params: { source_dir: data/shop, rows: 5, ratio: 0.5, strict: true, quoted: "7" }
        defaults:
          retries: 2
          retry_delay: 30s
          retry_exponential_backoff: true
          max_retry_delay: 10m
          execution_timeout: 30m
          pool: etl
          priority_weight: 3
          env: { MODE: "{{ ds }}" }
          depends_on_past: true
          trigger_rule: none_failed
        tasks:
          - id: notify
            depends_on: [bronze]
            trigger_rule: all_done
            command: echo finished {{ run_id }}
            retries: 0
            pool: default_pool
          - id: extract
            command: ./extract.sh {{ ds }} {{ params.source_dir }}
            cwd: scripts
            env: { LIMIT: "{{ params.rows }}" }
            execution_timeout: 1h30m
          - id: bronze
            depends_on: extract
            transform: bronze.ingest
            with: { tables: [users, purchases], path: "{{ params.source_dir }}/{{ ds_nodash }}", batch: 100 }
            retry_exponential_backoff: false
            priority_weight: -2
        """

    func testFullDagParsesWithEveryField() throws {
        let dag = try parse(fullDag)
        XCTAssertEqual(dag.dagId, "social_elt")
        XCTAssertEqual(dag.description, "Daily ELT of the social app into the warehouse")
        XCTAssertEqual(dag.filePath, file)
        XCTAssertEqual(dag.folder, "dags")
        XCTAssertEqual(dag.timetable.cron?.description, "@daily")
        XCTAssertEqual(dag.timetable.timeZone.identifier, "Europe/Paris")
        // Dates without an offset are wall times in the DAG's time zone.
        XCTAssertEqual(dag.startDate, utc(2023, 12, 31, 23))
        XCTAssertEqual(dag.endDate, utc(2024, 12, 31, 5))
        XCTAssertFalse(dag.catchup)
        XCTAssertEqual(dag.maxActiveRuns, 4)
        XCTAssertEqual(dag.maxActiveTasks, 8)
        XCTAssertEqual(dag.params, [
            "source_dir": .string("data/shop"), "rows": .int(5), "ratio": .double(0.5), "strict": .bool(true),
            "quoted": .string("7"),
        ])

        // Topological order, file order among ready tasks.
        XCTAssertEqual(dag.tasks.map(\.id), ["extract", "bronze", "notify"])

        let extract = try XCTUnwrap(dag.task("extract"))
        XCTAssertEqual(extract.action, .command("./extract.sh {{ ds }} {{ params.source_dir }}"))
        XCTAssertEqual(extract.dependsOn, [])
        XCTAssertEqual(extract.triggerRule, .noneFailed)  // from defaults
        XCTAssertEqual(extract.retry, RetryPolicy(retries: 2, retryDelay: 30, exponentialBackoff: true, maxRetryDelay: 600))
        XCTAssertEqual(extract.executionTimeout, 5400)  // own value wins over defaults
        XCTAssertTrue(extract.dependsOnPast)
        XCTAssertEqual(extract.pool, "etl")
        XCTAssertEqual(extract.priorityWeight, 3)
        XCTAssertEqual(extract.env, ["LIMIT": "{{ params.rows }}"])  // a task's env replaces the default env
        XCTAssertEqual(extract.cwd, "scripts")

        let bronze = try XCTUnwrap(dag.task("bronze"))
        XCTAssertEqual(bronze.dependsOn, ["extract"])  // a single string is a one-element list
        XCTAssertEqual(bronze.action, .transform(name: "bronze.ingest", with: .object([
            "tables": .array([.string("users"), .string("purchases")]),
            "path": .string("{{ params.source_dir }}/{{ ds_nodash }}"),
            "batch": .int(100),
        ])))
        XCTAssertEqual(bronze.retry, RetryPolicy(retries: 2, retryDelay: 30, exponentialBackoff: false, maxRetryDelay: 600))
        XCTAssertEqual(bronze.executionTimeout, 1800)
        XCTAssertEqual(bronze.priorityWeight, -2)
        XCTAssertEqual(bronze.env, ["MODE": "{{ ds }}"])
        XCTAssertNil(bronze.cwd)

        let notify = try XCTUnwrap(dag.task("notify"))
        XCTAssertEqual(notify.dependsOn, ["bronze"])
        XCTAssertEqual(notify.triggerRule, .allDone)
        XCTAssertEqual(notify.retry.retries, 0)
        XCTAssertEqual(notify.retry.maxTries, 1)
        XCTAssertEqual(notify.retry.retryDelay, 30)
        XCTAssertEqual(notify.pool, "default_pool")

        XCTAssertEqual(dag.directDownstream(of: "extract"), ["bronze"])
        XCTAssertEqual(dag.withDownstream(["bronze"]), ["bronze", "notify"])
        XCTAssertEqual(dag.withDownstream(["extract"]), ["extract", "bronze", "notify"])
    }

    /// The complete example of docs/dag-format.md.
    func testDocumentedExampleParses() throws {
        let dag = try parse("""
            dag_id: social_elt
            description: Daily ELT of the social app into the warehouse
            schedule: "@daily"
            timezone: UTC
            start_date: 2024-01-01
            end_date: 2024-12-31
            catchup: true
            max_active_runs: 4
            max_active_tasks: 8
            params: { source_dir: data/shop }
            defaults:
              retries: 2
              retry_delay: 30s
              retry_exponential_backoff: true
              max_retry_delay: 10m
              execution_timeout: 30m
            tasks:
              - id: extract
                command: ./extract.sh {{ ds }}
              - id: bronze
                depends_on: [extract]
                transform: bronze.ingest
                with: { tables: [users, purchases] }
              - id: notify
                depends_on: [bronze]
                trigger_rule: all_done
                command: echo finished {{ run_id }}
            """)
        XCTAssertEqual(dag.tasks.map(\.id), ["extract", "bronze", "notify"])
        XCTAssertEqual(dag.endDate, utc(2024, 12, 31))
        XCTAssertEqual(dag.tasks.map(\.retry), Array(repeating: RetryPolicy(retries: 2, retryDelay: 30, exponentialBackoff: true,
                                                                              maxRetryDelay: 600), count: 3))
        XCTAssertEqual(dag.tasks.map(\.executionTimeout), [1800, 1800, 1800])
        XCTAssertEqual(dag.tasks.map(\.triggerRule), [.allSuccess, .allSuccess, .allDone])
        XCTAssertEqual(dag.tasks.map(\.pool), ["default_pool", "default_pool", "default_pool"])
        XCTAssertEqual(dag.tasks[1].action, .transform(name: "bronze.ingest", with: .object(["tables": .array([.string("users"), .string("purchases")])])))
        XCTAssertEqual(dag.timetable.logicalDates(from: dag.startDate, through: try XCTUnwrap(dag.endDate)).count, 366)
    }

    func testMinimalDagGetsDefaults() throws {
        let dag = try parse("""
            dag_id: minimal
            schedule: 0 6 * * 1-5
            start_date: 2024-01-01
            tasks:
              - id: only
                command: "true"
            """)
        XCTAssertEqual(dag.dagId, "minimal")
        XCTAssertNil(dag.description)
        XCTAssertEqual(dag.timetable.cron?.description, "0 6 * * 1-5")
        // UTC by default (Foundation on Linux may name it GMT).
        XCTAssertEqual(dag.timetable.timeZone, TimeZone(identifier: "UTC"))
        XCTAssertEqual(dag.timetable.timeZone.secondsFromGMT(for: utc(2024, 7, 1)), 0)
        XCTAssertEqual(dag.startDate, utc(2024, 1, 1))
        XCTAssertNil(dag.endDate)
        XCTAssertTrue(dag.catchup)
        XCTAssertEqual(dag.maxActiveRuns, 16)
        XCTAssertEqual(dag.maxActiveTasks, 16)
        XCTAssertEqual(dag.params, [:])
        let task = try XCTUnwrap(dag.tasks.first)
        XCTAssertEqual(dag.tasks.count, 1)
        XCTAssertEqual(task.id, "only")
        XCTAssertEqual(task.action, .command("true"))
        XCTAssertEqual(task.dependsOn, [])
        XCTAssertEqual(task.triggerRule, .allSuccess)
        XCTAssertEqual(task.retry, RetryPolicy(retries: 0, retryDelay: 300, exponentialBackoff: false, maxRetryDelay: nil))
        XCTAssertNil(task.executionTimeout)
        XCTAssertFalse(task.dependsOnPast)
        XCTAssertEqual(task.pool, "default_pool")
        XCTAssertEqual(task.pool, TaskDefinition.defaultPool)
        XCTAssertEqual(task.priorityWeight, 1)
        XCTAssertEqual(task.env, [:])
        XCTAssertNil(task.cwd)
    }

    func testNullScheduleAndTransformWithoutWith() throws {
        let dag = try parse("""
            dag_id: manual_only
            schedule: null
            start_date: 2024-01-01T06:30:00Z
            catchup: no
            tasks:
              - id: t1
                transform: gold.build
              - id: t2
                depends_on: [t1]
                command: echo {{ logical_date }} {{ data_interval_start }} {{ data_interval_end }} {{ dag_id }} {{ task_id }} {{ try_number }}
            """)
        XCTAssertNil(dag.timetable.cron)
        XCTAssertEqual(dag.timetable.description, "None")
        XCTAssertEqual(dag.startDate, utc(2024, 1, 1, 6, 30))
        XCTAssertFalse(dag.catchup)
        XCTAssertEqual(dag.tasks.first?.action, .transform(name: "gold.build", with: .object([:])))
    }

    func testPresetsAreAcceptedAsSchedules() throws {
        for preset in ["@hourly", "@daily", "@weekly", "@monthly", "@yearly", "@midnight", "@annually"] {
            let dag = try parse("""
                dag_id: presets
                schedule: "\(preset)"
                start_date: 2024-01-01
                tasks: [{ id: a, command: "true" }]
                """)
            XCTAssertEqual(dag.timetable.cron?.description, preset)
        }
    }

    func testParseFileReadsFromDisk() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("dagparser-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("a.yaml").path
        try "dag_id: on_disk\nschedule: null\nstart_date: 2024-01-01\ntasks: [{ id: a, command: ls }]\n"
            .write(toFile: path, atomically: true, encoding: .utf8)
        let dag = try DagParser.parse(file: path)
        XCTAssertEqual(dag.dagId, "on_disk")
        XCTAssertEqual(dag.filePath, path)
        XCTAssertEqual(dag.folder, folder.path)

        let missing = folder.appendingPathComponent("missing.yaml").path
        XCTAssertThrowsError(try DagParser.parse(file: missing)) { error in
            let error = error as? DagLoadError
            XCTAssertEqual(error?.issues, [DagIssue(line: nil, field: "", message: "cannot read the file")])
            XCTAssertEqual(error?.description, "\(missing): cannot read the file")
        }
    }

    // MARK: - Validation errors: every one names file, line and field

    func testUnknownTopLevelFieldSuggestsTheClosest() {
        assertSingleIssue("""
            dag_id: typo
            scheduel: "@daily"
            schedule: "@daily"
            start_date: 2024-01-01
            tasks: [{ id: a, command: ls }]
            """, line: 2, field: "scheduel", message: "unknown field 'scheduel' (did you mean 'schedule'?)")
    }

    func testUnknownFieldWithoutCloseMatchHasNoHint() {
        assertSingleIssue("""
            dag_id: typo
            schedule: "@daily"
            start_date: 2024-01-01
            owner_email: ops@example.com
            tasks: [{ id: a, command: ls }]
            """, line: 4, field: "owner_email", message: "unknown field 'owner_email'")
    }

    func testUnknownTaskField() {
        assertSingleIssue("""
            dag_id: typo
            schedule: "@daily"
            start_date: 2024-01-01
            tasks:
              - id: a
                command: ls
              - id: b
                depend_on: [a]
                command: ls
            """, line: 8, field: "tasks[1].depend_on", message: "unknown field 'depend_on' (did you mean 'depends_on'?)")
    }

    func testUnknownFieldInDefaults() {
        assertSingleIssue("""
            dag_id: typo
            schedule: "@daily"
            start_date: 2024-01-01
            defaults:
              retires: 3
            tasks:
              - id: a
                command: ls
            """, line: 5, field: "defaults.retires", message: "unknown field 'retires' (did you mean 'retries'?)")
        // command is a task field, but not one defaults may set.
        assertSingleIssue("""
            dag_id: typo
            schedule: "@daily"
            start_date: 2024-01-01
            defaults:
              command: ls
            tasks:
              - id: a
                command: ls
            """, line: 5, field: "defaults.command", message: "unknown field 'command'")
    }

    func testFieldSetTwice() {
        // Yams rejects repeated keys while composing; the issue points at the first occurrence.
        assertSingleIssue("""
            dag_id: twice
            schedule: "@daily"
            start_date: 2024-01-01
            schedule: "@hourly"
            tasks: [{ id: a, command: ls }]
            """, line: 2, field: "", message: "not valid YAML: 'schedule' set more than once in the same mapping")
        assertSingleIssue("""
            dag_id: twice
            schedule: "@daily"
            start_date: 2024-01-01
            tasks:
              - id: a
                command: ls
              - id: b
                command: ls
                retries: 1
                command: pwd
            """, line: 8, field: "", message: "not valid YAML: 'command' set more than once in the same mapping")
    }

    func testMissingRequiredFields() {
        guard let error = loadError("""
            description: nothing else
            tasks:
              - command: ls
            """) else { return }
        XCTAssertEqual(error.issues, [
            DagIssue(line: 1, field: "dag_id", message: "missing required field 'dag_id'"),
            DagIssue(line: 1, field: "schedule", message: "missing required field 'schedule'"),
            DagIssue(line: 1, field: "start_date", message: "missing required field 'start_date'"),
            DagIssue(line: 3, field: "tasks[0].id", message: "missing required field 'id'"),
        ])
        XCTAssertEqual(error.description, """
            dags/test_dag.yaml:1: dag_id: missing required field 'dag_id'
            dags/test_dag.yaml:1: schedule: missing required field 'schedule'
            dags/test_dag.yaml:1: start_date: missing required field 'start_date'
            dags/test_dag.yaml:3: tasks[0].id: missing required field 'id'
            """)
    }

    func testMissingUpstream() {
        assertSingleIssue("""
            dag_id: upstreams
            schedule: "@daily"
            start_date: 2024-01-01
            tasks:
              - id: extract
                command: ls
              - id: load
                depends_on: [extract, transfrom]
                command: ls
            """, line: 7, field: "tasks[1].depends_on", message: "unknown upstream task 'transfrom'")
    }

    func testSelfDependency() {
        assertSingleIssue("""
            dag_id: selfish
            schedule: "@daily"
            start_date: 2024-01-01
            tasks:
              - id: a
                depends_on: [a]
                command: ls
            """, line: 6, field: "tasks[0].depends_on", message: "task 'a' cannot depend on itself")
    }

    func testCycleNamesItsMembers() {
        assertSingleIssue("""
            dag_id: cyclic
            schedule: "@daily"
            start_date: 2024-01-01
            tasks:
              - id: start
                command: ls
              - id: a
                depends_on: [start, c]
                command: ls
              - id: b
                depends_on: [a]
                command: ls
              - id: c
                depends_on: [b]
                command: ls
              - id: after
                depends_on: [a]
                command: ls
            """, line: 10, field: "tasks[2].depends_on", message: "dependency cycle: b -> c -> a -> b")
    }

    func testTwoTaskCycle() {
        assertSingleIssue("""
            dag_id: cyclic
            schedule: "@daily"
            start_date: 2024-01-01
            tasks:
              - { id: x, depends_on: [y], command: ls }
              - { id: y, depends_on: [x], command: ls }
            """, line: 6, field: "tasks[1].depends_on", message: "dependency cycle: y -> x -> y")
    }

    func testBadCron() {
        assertSingleIssue("""
            dag_id: bad_cron
            schedule: "61 * * * *"
            start_date: 2024-01-01
            tasks: [{ id: a, command: ls }]
            """, line: 2, field: "schedule", message: "'61 * * * *' is not a valid schedule: minute field '61' is out of range 0-59 "
                + "(use 5-field cron, @hourly, @daily, @weekly, @monthly, @yearly or null)")
        assertSingleIssue("""
            dag_id: bad_cron
            schedule: "@fortnightly"
            start_date: 2024-01-01
            tasks: [{ id: a, command: ls }]
            """, line: 2, field: "schedule", message: "'@fortnightly' is not a valid schedule: unknown preset '@fortnightly'; expected one of "
                + "@hourly, @daily, @midnight, @weekly, @monthly, @yearly, @annually "
                + "(use 5-field cron, @hourly, @daily, @weekly, @monthly, @yearly or null)")
        assertSingleIssue("""
            dag_id: bad_cron
            schedule: 0 6 * *
            start_date: 2024-01-01
            tasks: [{ id: a, command: ls }]
            """, line: 2, field: "schedule", message: "'0 6 * *' is not a valid schedule: expected 5 fields, got 4 "
                + "(use 5-field cron, @hourly, @daily, @weekly, @monthly, @yearly or null)")
    }

    func testBadDurationInTaskAndInDefaults() {
        assertSingleIssue("""
            dag_id: durations
            schedule: "@daily"
            start_date: 2024-01-01
            tasks:
              - id: a
                command: ls
                retry_delay: 5 minutes
            """, line: 7, field: "tasks[0].retry_delay",
            message: "'5 minutes' is not a duration (try 45s, 10m, 2h, 1h30m or a number of seconds)")
        // A bad default is reported once, at its line in defaults, however many tasks inherit it.
        assertSingleIssue("""
            dag_id: durations
            schedule: "@daily"
            start_date: 2024-01-01
            defaults:
              execution_timeout: forever
            tasks:
              - id: a
                command: ls
              - id: b
                command: ls
            """, line: 5, field: "defaults.execution_timeout",
            message: "'forever' is not a duration (try 45s, 10m, 2h, 1h30m or a number of seconds)")
        assertSingleIssue("""
            dag_id: durations
            schedule: "@daily"
            start_date: 2024-01-01
            tasks:
              - id: a
                command: ls
                execution_timeout: 0s
            """, line: 7, field: "tasks[0].execution_timeout", message: "must be more than 0")
    }

    func testDuplicateTaskId() {
        assertSingleIssue("""
            dag_id: dupes
            schedule: "@daily"
            start_date: 2024-01-01
            tasks:
              - id: a
                command: ls
              - id: b
                command: ls
              - id: a
                command: pwd
            """, line: 9, field: "tasks[2].id", message: "duplicate task id 'a' (first at tasks[0])")
    }

    func testTaskWithBothCommandAndTransform() {
        assertSingleIssue("""
            dag_id: both
            schedule: "@daily"
            start_date: 2024-01-01
            tasks:
              - id: a
                command: ls
              - id: b
                command: ls
                transform: bronze.ingest
            """, line: 7, field: "tasks[1]", message: "task 'b' sets both command and transform; keep exactly one")
    }

    func testTaskWithNeitherCommandNorTransform() {
        assertSingleIssue("""
            dag_id: neither
            schedule: "@daily"
            start_date: 2024-01-01
            tasks:
              - id: a
                retries: 1
            """, line: 5, field: "tasks[0]", message: "task 'a' needs a command, a transform or a sensor")
    }

    func testWithWithoutTransform() {
        assertSingleIssue("""
            dag_id: with_only
            schedule: "@daily"
            start_date: 2024-01-01
            tasks:
              - id: a
                command: ls
                with: { x: 1 }
            """, line: 7, field: "tasks[0].with", message: "'with' configures a transform; this task has none")
    }

    func testBadDagIdAndTaskId() {
        assertSingleIssue("""
            dag_id: Social-ELT
            schedule: "@daily"
            start_date: 2024-01-01
            tasks: [{ id: a, command: ls }]
            """, line: 1, field: "dag_id", message: "'Social-ELT' must match [a-z0-9_]+")
        assertSingleIssue("""
            dag_id: ok
            schedule: "@daily"
            start_date: 2024-01-01
            tasks:
              - id: Load Data
                command: ls
            """, line: 5, field: "tasks[0].id", message: "'Load Data' must match [a-z0-9_]+")
    }

    func testBadTimezone() {
        assertSingleIssue("""
            dag_id: tz
            schedule: "@daily"
            timezone: Mars/Olympus_Mons
            start_date: 2024-01-01
            tasks: [{ id: a, command: ls }]
            """, line: 3, field: "timezone", message: "'Mars/Olympus_Mons' is not an IANA time zone (e.g. UTC, Europe/Paris)")
    }

    func testBadStartAndEndDates() {
        assertSingleIssue("""
            dag_id: dates
            schedule: "@daily"
            start_date: 2024-02-30
            tasks: [{ id: a, command: ls }]
            """, line: 3, field: "start_date", message: "'2024-02-30' is not a date (try 2024-01-31 or 2024-01-31T06:00)")
        assertSingleIssue("""
            dag_id: dates
            schedule: "@daily"
            start_date: yesterday
            tasks: [{ id: a, command: ls }]
            """, line: 3, field: "start_date", message: "'yesterday' is not a date (try 2024-01-31 or 2024-01-31T06:00)")
        assertSingleIssue("""
            dag_id: dates
            schedule: "@daily"
            start_date: 2024-06-01
            end_date: 2024-05-31
            tasks: [{ id: a, command: ls }]
            """, line: 4, field: "end_date", message: "is before start_date")
    }

    func testUnknownTemplateVariable() {
        assertSingleIssue("""
            dag_id: templates
            schedule: "@daily"
            start_date: 2024-01-01
            tasks:
              - id: a
                command: echo {{ execution_date }}
            """, line: 6, field: "tasks[0].command", message: "unknown template variable 'execution_date' (known: ds, ds_nodash, "
                + "logical_date, data_interval_start, data_interval_end, run_id, dag_id, task_id, try_number, params.NAME)")
    }

    func testUnknownParam() {
        assertSingleIssue("""
            dag_id: templates
            schedule: "@daily"
            start_date: 2024-01-01
            params:
              source_dir: data
            tasks:
              - id: a
                command: ls {{ params.source_dir }}
              - id: b
                transform: bronze.ingest
                with:
                  path: "{{ params.target_dir }}"
            """, line: 12, field: "tasks[1].with", message: "unknown param 'target_dir' in {{ params.target_dir }} (declare it under params:)")
        assertSingleIssue("""
            dag_id: templates
            schedule: "@daily"
            start_date: 2024-01-01
            tasks:
              - id: a
                command: ls
                env:
                  TARGET: "{{ params.target }}"
            """, line: 8, field: "tasks[0].env.TARGET", message: "unknown param 'target' in {{ params.target }} (declare it under params:)")
    }

    func testUnclosedTemplate() {
        assertSingleIssue("""
            dag_id: templates
            schedule: "@daily"
            start_date: 2024-01-01
            tasks:
              - id: a
                command: echo {{ ds
            """, line: 6, field: "tasks[0].command", message: "unclosed '{{' in \"echo {{ ds\"")
    }

    func testBadTriggerRule() {
        assertSingleIssue("""
            dag_id: rules
            schedule: "@daily"
            start_date: 2024-01-01
            tasks:
              - id: a
                command: ls
                trigger_rule: always
            """, line: 7, field: "tasks[0].trigger_rule", message: "'always' is not a trigger rule (one of all_success, all_failed, "
                + "all_done, one_success, one_failed, none_failed, none_failed_min_one_success)")
    }

    func testInvalidTaskDoesNotMakeItsDownstreamsReportUnknownUpstreams() {
        assertSingleIssue("""
            dag_id: rules
            schedule: "@daily"
            start_date: 2024-01-01
            tasks:
              - id: a
                command: ls
                retries: many
              - id: b
                depends_on: [a]
                command: ls
            """, line: 7, field: "tasks[0].retries", message: "'many' is not a whole number")
    }

    func testMalformedYaml() {
        assertSingleIssue("""
            dag_id: broken
            schedule: "@daily"
            description: a: b
            start_date: 2024-01-01
            tasks: [{ id: a, command: ls }]
            """, line: 3, field: "", message: "not valid YAML: mapping values are not allowed in this context")
        assertSingleIssue("""
            dag_id: broken
            schedule: "@daily"
            start_date: 2024-01-01
            tasks: [{ id: a, command: ls }
            """, line: 5, field: "", message: "not valid YAML: did not find expected ',' or ']'")
    }

    func testDocumentThatIsNotAMapping() {
        assertSingleIssue("""
            - dag_id: list
            - tasks: []
            """, line: 1, field: "", message: "the file must be a YAML mapping with dag_id, schedule and tasks")
        assertSingleIssue("", line: nil, field: "", message: "the file must be a YAML mapping with dag_id, schedule and tasks")
    }

    func testBadNumbersBooleansAndShapes() {
        assertSingleIssue("""
            dag_id: numbers
            schedule: "@daily"
            start_date: 2024-01-01
            max_active_runs: 0
            tasks: [{ id: a, command: ls }]
            """, line: 4, field: "max_active_runs", message: "0 is out of range: must be between 1 and 10,000")
        assertSingleIssue("""
            dag_id: numbers
            schedule: "@daily"
            start_date: 2024-01-01
            max_active_tasks: lots
            tasks: [{ id: a, command: ls }]
            """, line: 4, field: "max_active_tasks", message: "'lots' is not a whole number")
        assertSingleIssue("""
            dag_id: numbers
            schedule: "@daily"
            start_date: 2024-01-01
            catchup: maybe
            tasks: [{ id: a, command: ls }]
            """, line: 4, field: "catchup", message: "'maybe' is not true or false")
        assertSingleIssue("""
            dag_id: numbers
            schedule: "@daily"
            start_date: 2024-01-01
            tasks: []
            """, line: 4, field: "tasks", message: "must be a non-empty list of tasks")
        assertSingleIssue("""
            dag_id: numbers
            schedule: "@daily"
            start_date: 2024-01-01
            params: [a, b]
            tasks: [{ id: a, command: ls }]
            """, line: 4, field: "params", message: "must be a mapping of names to values")
        assertSingleIssue("""
            dag_id: numbers
            schedule: "@daily"
            start_date: 2024-01-01
            params:
              source-dir: x
            tasks: [{ id: a, command: ls }]
            """, line: 5, field: "params", message: "param names must match [A-Za-z_][A-Za-z0-9_]*")
        assertSingleIssue("""
            dag_id: numbers
            schedule: "@daily"
            start_date: 2024-01-01
            tasks:
              - id: a
                command: ls
                retries: -1
            """, line: 7, field: "tasks[0].retries", message: "-1 is out of range: must be between 0 and 100")
        assertSingleIssue("""
            dag_id: numbers
            schedule: "@daily"
            start_date: 2024-01-01
            tasks:
              - id: a
                command: ls
                pool: my-pool
            """, line: 7, field: "tasks[0].pool", message: "'my-pool' must match [A-Za-z_][A-Za-z0-9_]*")
        assertSingleIssue("""
            dag_id: numbers
            schedule: "@daily"
            start_date: 2024-01-01
            tasks:
              - id: a
                command: ls
                env:
                  1BAD: x
            """, line: 8, field: "tasks[0].env", message: "environment variable names must match [A-Za-z_][A-Za-z0-9_]*")
        assertSingleIssue("""
            dag_id: numbers
            schedule: "@daily"
            start_date: 2024-01-01
            tasks:
              - ls -l
            """, line: 5, field: "tasks[0]", message: "each task must be a mapping with id and command or transform")
    }

    func testEveryProblemOfAFileIsReportedAtOnce() {
        guard let error = loadError("""
            dag_id: Bad
            schedule: "@often"
            start_date: 2024-01-01
            tasks:
              - id: a
                command: ls
                trigger_rule: sometimes
              - id: b
                depends_on: [zz]
                command: ls
            """) else { return }
        XCTAssertEqual(error.issues.map(\.line), [1, 2, 7, 8])
        XCTAssertEqual(error.issues.map(\.field), ["dag_id", "schedule", "tasks[0].trigger_rule", "tasks[1].depends_on"])
        let lines = error.description.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.count, 4)
        XCTAssertEqual(lines.first, "dags/test_dag.yaml:1: dag_id: 'Bad' must match [a-z0-9_]+")
        XCTAssertEqual(lines.last, "dags/test_dag.yaml:8: tasks[1].depends_on: unknown upstream task 'zz'")
    }

    func testIssueDescriptionWithoutField() {
        XCTAssertEqual(DagIssue(line: 3, field: "", message: "boom").description, "boom")
        XCTAssertEqual(DagIssue(line: 3, field: "f", message: "boom").description, "f: boom")
        XCTAssertEqual(DagLoadError(file: "x.yaml", issues: [DagIssue(line: nil, field: "f", message: "m")]).description, "x.yaml: f: m")
    }

    func testATaskMayNotSetTheStoreLibpqOrLoaderVariables() {
        for name in ["ORCHESTRATOR_STORE", "PGPASSWORD", "PGHOST", "LD_PRELOAD", "LD_LIBRARY_PATH"] {
            assertSingleIssue("""
                dag_id: numbers
                schedule: "@daily"
                start_date: 2024-01-01
                tasks:
                  - id: a
                    command: ls
                    env:
                      OK_NAME: fine
                      \(name): elsewhere
                """, line: 9, field: "tasks[0].env.\(name)",
                message: "'\(name)' is reserved: a task may not set ORCHESTRATOR_STORE, PG* or LD_* variables")
        }
        XCTAssertNotNil(try? DagParser.parse(text: """
            dag_id: numbers
            schedule: "@daily"
            start_date: 2024-01-01
            tasks:
              - id: a
                command: ls
                env:
                  ORCHESTRATOR_STORE_NOTE: fine
                  PAGER: cat
            """, file: file))
    }
}
