import Foundation
import XCTest
@testable import Workflow

final class TemplateTests: XCTestCase {

    private func utc(_ y: Int, _ mo: Int, _ d: Int, _ h: Int = 0, _ mi: Int = 0) -> Date {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(secondsFromGMT: 0) ?? .current
        return calendar.date(from: DateComponents(year: y, month: mo, day: d, hour: h, minute: mi)) ?? Date(timeIntervalSince1970: 0)
    }

    /// The message of the `Template.Failure` thrown by `body`, or nil when it does not throw.
    private func failure(_ body: () throws -> Void) -> String? {
        do {
            try body()
            return nil
        } catch let error as Template.Failure {
            return error.message
        } catch {
            return "unexpected error \(error)"
        }
    }

    // MARK: - references / render

    func testReferencesInOrder() throws {
        XCTAssertEqual(try Template.references(in: "a {{ ds }} b {{params.x}} {{  run_id  }}"), ["ds", "params.x", "run_id"])
        XCTAssertEqual(try Template.references(in: "no templates } here {"), [])
    }

    func testRender() throws {
        let values = ["ds": "2024-01-02", "run_id": "scheduled__2024-01-02T00:00:00Z", "params.dir": "data/shop"]
        XCTAssertEqual(try Template.render("./extract.sh {{ ds }} {{params.dir}}", values: values), "./extract.sh 2024-01-02 data/shop")
        XCTAssertEqual(try Template.render("{{ds}}{{ ds }}", values: values), "2024-01-022024-01-02")
        XCTAssertEqual(try Template.render("echo {{ run_id }}!", values: values), "echo scheduled__2024-01-02T00:00:00Z!")
        XCTAssertEqual(try Template.render("plain text", values: [:]), "plain text")
        XCTAssertEqual(try Template.render("a } b }}", values: [:]), "a } b }}")
    }

    func testRenderUnknownVariable() {
        XCTAssertEqual(failure { _ = try Template.render("echo {{ nope }}", values: ["ds": "x"]) }, "unknown template variable 'nope'")
    }

    func testUnclosedBraces() {
        XCTAssertEqual(failure { _ = try Template.render("echo {{ ds", values: ["ds": "x"]) }, "unclosed '{{' in \"echo {{ ds\"")
        XCTAssertEqual(failure { _ = try Template.references(in: "{{ ds }} {{ ds") }, "unclosed '{{' in \"{{ ds }} {{ ds\"")
        XCTAssertEqual(failure { try Template.validate("{{ ds }", params: []) }, "unclosed '{{' in \"{{ ds }\"")
    }

    // MARK: - validate

    func testValidateAcceptsEveryKnownVariable() {
        let text = Template.variables.map { "{{ \($0) }}" }.joined(separator: " ")
        XCTAssertNil(failure { try Template.validate(text, params: []) })
        XCTAssertEqual(Template.variables, ["ds", "ds_nodash", "logical_date", "data_interval_start", "data_interval_end",
                                            "run_id", "dag_id", "task_id", "try_number"])
    }

    func testValidateParams() {
        XCTAssertNil(failure { try Template.validate("ls {{ params.source_dir }}", params: ["source_dir"]) })
        XCTAssertEqual(failure { try Template.validate("ls {{ params.target }}", params: ["source_dir"]) },
                       "unknown param 'target' in {{ params.target }} (declare it under params:)")
        XCTAssertEqual(failure { try Template.validate("ls {{ params.source_dir }}", params: []) },
                       "unknown param 'source_dir' in {{ params.source_dir }} (declare it under params:)")
    }

    func testValidateUnknownVariable() {
        XCTAssertEqual(failure { try Template.validate("{{ ds }} {{ execution_date }}", params: []) },
                       "unknown template variable 'execution_date' (known: ds, ds_nodash, logical_date, data_interval_start, "
                       + "data_interval_end, run_id, dag_id, task_id, try_number, params.NAME)")
        // Jinja expressions are not supported: the whole text between braces is the name.
        XCTAssertEqual(failure { try Template.validate("{{ ds | upper }}", params: []) }.map { $0.hasPrefix("unknown template variable 'ds | upper'") }, true)
    }

    // MARK: - TemplateContext

    private func dag(timeZone: String, schedule: String?, params: [String: ConfigValue] = [:]) throws -> DAG {
        let zone = try XCTUnwrap(TimeZone(identifier: timeZone))
        return DAG(dagId: "social_elt", description: nil, filePath: "/dags/social.yaml",
                   timetable: Timetable(cron: try schedule.map { try CronExpression(parsing: $0) }, timeZone: zone),
                   startDate: utc(2024, 1, 1), endDate: nil, catchup: true, maxActiveRuns: 16, maxActiveTasks: 16,
                   params: params, tasks: [TaskDefinition(id: "extract", action: .command("ls"))])
    }

    func testContextValuesInUTC() throws {
        let dag = try dag(timeZone: "UTC", schedule: "@daily", params: ["source_dir": .string("data/shop"), "rows": .int(5)])
        let logical = utc(2024, 1, 2)
        let interval = try XCTUnwrap(dag.timetable.dataInterval(forScheduled: logical))
        let context = TemplateContext(dag: dag, taskId: "extract", runId: "scheduled__2024-01-02T00:00:00Z", logicalDate: logical,
                                      interval: interval, params: ["rows": .int(7)], tryNumber: 2)
        XCTAssertEqual(context.values, [
            "ds": "2024-01-02",
            "ds_nodash": "20240102",
            "logical_date": "2024-01-02T00:00:00Z",
            "data_interval_start": "2024-01-02T00:00:00Z",
            "data_interval_end": "2024-01-03T00:00:00Z",
            "run_id": "scheduled__2024-01-02T00:00:00Z",
            "dag_id": "social_elt",
            "task_id": "extract",
            "try_number": "2",
            "params.source_dir": "data/shop",
            "params.rows": "7",  // run params override the DAG's
        ])
        XCTAssertEqual(context.environment, [
            "ORCHESTRATOR_DS": "2024-01-02",
            "ORCHESTRATOR_DS_NODASH": "20240102",
            "ORCHESTRATOR_LOGICAL_DATE": "2024-01-02T00:00:00Z",
            "ORCHESTRATOR_DATA_INTERVAL_START": "2024-01-02T00:00:00Z",
            "ORCHESTRATOR_DATA_INTERVAL_END": "2024-01-03T00:00:00Z",
            "ORCHESTRATOR_RUN_ID": "scheduled__2024-01-02T00:00:00Z",
            "ORCHESTRATOR_DAG_ID": "social_elt",
            "ORCHESTRATOR_TASK_ID": "extract",
            "ORCHESTRATOR_TRY_NUMBER": "2",
            "ORCHESTRATOR_PARAM_SOURCE_DIR": "data/shop",
            "ORCHESTRATOR_PARAM_ROWS": "7",
        ])
        XCTAssertEqual(try Template.render("cp {{ params.source_dir }}/{{ ds_nodash }}.csv out/{{ task_id }}.{{ try_number }}",
                                           values: context.values),
                       "cp data/shop/20240102.csv out/extract.2")
    }

    func testDsIsTheLogicalDateInTheDagTimeZone() throws {
        // Midnight in Paris is the previous evening in UTC: ds is still the Paris date.
        let dag = try dag(timeZone: "Europe/Paris", schedule: "@daily",
                          params: ["tables": .array([.string("users"), .string("purchases")]), "flag": .bool(true)])
        let logical = utc(2024, 7, 14, 22)  // 2024-07-15 00:00 CEST
        let interval = try XCTUnwrap(dag.timetable.dataInterval(forScheduled: logical))
        let context = TemplateContext(dag: dag, taskId: "extract", runId: "r", logicalDate: logical, interval: interval,
                                      params: [:], tryNumber: 1)
        XCTAssertEqual(context.values["ds"], "2024-07-15")
        XCTAssertEqual(context.values["ds_nodash"], "20240715")
        XCTAssertEqual(context.values["logical_date"], "2024-07-15T00:00:00+02:00")
        XCTAssertEqual(context.values["data_interval_start"], "2024-07-15T00:00:00+02:00")
        XCTAssertEqual(context.values["data_interval_end"], "2024-07-16T00:00:00+02:00")
        XCTAssertEqual(context.values["params.tables"], "[\"users\",\"purchases\"]")
        XCTAssertEqual(context.values["params.flag"], "true")
        XCTAssertEqual(context.environment["ORCHESTRATOR_PARAM_TABLES"], "[\"users\",\"purchases\"]")
    }

    func testContextOfAManualRunWithoutSchedule() throws {
        let dag = try dag(timeZone: "America/New_York", schedule: nil)
        let logical = utc(2024, 3, 10, 4, 15)  // 2024-03-09 23:15 EST
        let context = TemplateContext(dag: dag, taskId: "extract", runId: "manual__x", logicalDate: logical,
                                      interval: dag.timetable.dataInterval(forManual: logical), params: [:], tryNumber: 1)
        XCTAssertEqual(context.values["ds"], "2024-03-09")
        XCTAssertEqual(context.values["logical_date"], "2024-03-09T23:15:00-05:00")
        XCTAssertEqual(context.values["data_interval_start"], "2024-03-09T23:15:00-05:00")
        XCTAssertEqual(context.values["data_interval_end"], "2024-03-09T23:15:00-05:00")
    }
}
