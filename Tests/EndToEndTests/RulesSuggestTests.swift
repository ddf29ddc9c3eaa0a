import Foundation
import XCTest

/// `orchestrator rules suggest` on a CSV holding every shape it knows: the block it prints is valid rules
/// (silver.clean loads it and cleans the same file with it) with the types, formats, key and values expected.
final class RulesSuggestTests: XCTestCase {
    func sample() -> String {
        var lines = ["Order ID,user_id,quantity,unit_price,order_date,shipped_on,paid_at,status,gift,note"]
        for row in 1...60 {
            let uuid = String(format: "%08x-1b2c-4d3e-8f40-%012x", row * 7919, row * 104_729)
            let day = (row % 28) + 1
            let paid = ["2024-05-%02dT10:15:00Z", "2024-05-%02d 10:15:00+02:00", "2024-05-%02dT10:15:00.250-0500",
                        "2024-05-%02dT10:15:00", "2024-05-%02d"][row % 5]
            let note = row % 3 == 0 ? "" : "\"call, then ring\""
            lines.append([String(format: "O%05d", row), row % 10 == 0 ? uuid.uppercased() : uuid, String(row % 4 + 1),
                          String(format: "%d.%02d", row, row % 100), String(format: "2024-05-%02d", day),
                          String(format: "%02d/05/2024", day), String(format: paid, day), ["new", "paid", "shipped"][row % 3],
                          row % 2 == 0 ? "true" : "false", note].joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    func testSuggestedRulesLoadAndCleanTheSampleTheyCameFrom() throws {
        let h = try Harness()
        let data = h.dags.appendingPathComponent("in/2024-05-01")
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        let csv = data.appendingPathComponent("orders.csv")
        try sample().write(to: csv, atomically: true, encoding: .utf8)

        let suggested = try h.run(["rules", "suggest", csv.path])
        XCTAssertEqual(suggested.status, 0, suggested.stderr)
        let yaml = suggested.stdout
        for line in [
            "  orders:", "    key: [order_id]",
            #"      - { name: order_id, source: "Order ID", type: string, required: true }"#,
            "      - { name: user_id, type: uuid, required: true }",
            "      - { name: quantity, type: int, required: true }",
            "      - { name: unit_price, type: decimal, required: true }",
            "      - { name: order_date, type: date, required: true }",
            #"      - { name: shipped_on, type: date, required: true, formats: ["%d/%m/%Y"] }"#,
            "      - { name: paid_at, type: timestamp, required: true }",
            #"      - { name: status, type: string, required: true, accepted_values: ["new", "paid", "shipped"] }"#,
            "      - { name: gift, type: bool, required: true }",
            "      - { name: note, type: string }",
        ] {
            XCTAssertTrue(yaml.contains(line + "\n"), "missing \(line) in:\n\(yaml)")
        }
        let rules = h.dags.appendingPathComponent("orders_rules.yaml")
        try yaml.write(to: rules, atomically: true, encoding: .utf8)
        let check = try h.run(["rules", "check", rules.path])
        XCTAssertEqual(check.status, 0, check.stderr)
        XCTAssertTrue(check.stdout.contains("orders key [order_id]: order_id string required, user_id uuid required"), check.stdout)

        // silver.clean with these rules keeps every row of the sample.
        try h.writeDag("orders", """
            dag_id: orders
            schedule: null
            start_date: 2024-05-01
            tasks:
              - { id: extract, transform: extract.files, with: { source: web, files: ["in/{{ ds }}/orders.csv"] } }
              - { id: silver, depends_on: [extract], transform: silver.clean, with: { source: web, rules: orders_rules.yaml } }
            """)
        let run = try h.run(["test", "orders", "--date", "2024-05-01"])
        XCTAssertEqual(run.status, 0, run.stdout + run.stderr)
        let quality = try JSONSerialization.jsonObject(with: Data(contentsOf: h.home.appendingPathComponent(
            "lake/silver/orders/ds=2024-05-01/quality.json"))) as? [String: Any]
        XCTAssertEqual(quality?["rows_in"] as? Int, 60)
        XCTAssertEqual(quality?["rows_out"] as? Int, 60)
    }

    /// Headers that give one rule name get distinct names (else the rules would repeat a column), and the
    /// types follow what silver.clean reads: `,` fractions and `±hh` offsets are timestamps, braced UUIDs are
    /// uuids, and impossible dates (2024-02-30) are not dates.
    func testHeadersWithOneRuleNameGetDistinctNamesAndTypesFollowSilverClean() throws {
        let h = try Harness()
        var lines = ["Order ID,order_id,order-id,stamp,bad_day,ref"]
        for row in 1...60 {
            let uuid = String(format: "{%08x-1b2c-4d3e-8f40-%012x}", row * 7919, row * 104_729)
            lines.append([String(format: "O%05d", row), String(row), String(row * 2),
                          String(format: "\"2024-05-%02dT10:15:00,5+01\"", row % 28 + 1),  // quoted: a decimal comma
                          String(format: "2024-02-%02d", 28 + row % 4), uuid].joined(separator: ","))
        }
        let csv = h.path("orders.csv")
        try (lines.joined(separator: "\n") + "\n").write(toFile: csv, atomically: true, encoding: .utf8)
        let suggested = try h.run(["rules", "suggest", csv])
        XCTAssertEqual(suggested.status, 0, suggested.stderr)
        let yaml = suggested.stdout
        for line in [
            #"      - { name: order_id, source: "Order ID", type: string, required: true }"#,
            "      - { name: order_id_2, source: \"order_id\", type: int, required: true }",
            "      - { name: order_id_3, source: \"order-id\", type: int, required: true }",
            "      - { name: stamp, type: timestamp, required: true }",
            "      - { name: bad_day, type: string, required: true,",
            "      - { name: ref, type: uuid, required: true }",
        ] {
            XCTAssertTrue(yaml.contains(line), "missing \(line) in:\n\(yaml)")
        }
        let rules = h.path("orders_rules.yaml")
        try yaml.write(toFile: rules, atomically: true, encoding: .utf8)
        let check = try h.run(["rules", "check", rules])
        XCTAssertEqual(check.status, 0, check.stderr)
        XCTAssertTrue(check.stdout.contains("order_id string required, order_id_2 int required, order_id_3 int required"), check.stdout)
    }

    func testAFileThatIsNotACsvWithAHeaderGetsOneClearError() throws {
        let h = try Harness()
        try "".write(toFile: h.path("empty.csv"), atomically: true, encoding: .utf8)
        let empty = try h.run(["rules", "suggest", h.path("empty.csv")])
        XCTAssertNotEqual(empty.status, 0)
        XCTAssertTrue(empty.stderr.contains("empty.csv: the file is empty (no header line)"), empty.stderr)
        try "a,b,a\n1,2,3\n".write(toFile: h.path("twice.csv"), atomically: true, encoding: .utf8)
        let twice = try h.run(["rules", "suggest", h.path("twice.csv")])
        XCTAssertTrue(twice.stderr.contains("twice.csv:1: column 3 'a' repeats column 1"), twice.stderr)
        let missing = try h.run(["rules", "suggest", h.path("missing.csv")])
        XCTAssertTrue(missing.stderr.contains("cannot open \(h.path("missing.csv"))"), missing.stderr)
        XCTAssertFalse(missing.stderr.contains("Fatal") || twice.stderr.contains("Fatal"))
    }
}
