import Foundation
@testable import Transforms
import XCTest

final class CleaningRulesTests: XCTestCase {
    private var directory: TemporaryDirectory!

    override func setUpWithError() throws { directory = try TemporaryDirectory() }
    override func tearDown() { directory = nil }

    private func load(_ yaml: String) throws -> CleaningRules {
        try CleaningRules.load(path: try directory.write("rules.yaml", yaml))
    }

    /// The error message of loading `yaml`, with the file's path replaced by `rules.yaml`.
    private func error(_ yaml: String, file: StaticString = #filePath, line: UInt = #line) -> String {
        let path: String
        do { path = try directory.write("rules.yaml", yaml) } catch { XCTFail("\(error)"); return "" }
        do {
            _ = try CleaningRules.load(path: path)
            XCTFail("expected an error", file: file, line: line)
            return ""
        } catch {
            XCTAssertTrue(error.description.hasPrefix(path + ":"), error.description, file: file, line: line)
            return error.description.replacingOccurrences(of: path, with: "rules.yaml")
        }
    }

    func testValidFile() throws {
        let rules = try load("""
        # Cleaning rules of the shop
        tables:
          clients:
            key: [client_id]
            columns:
              - { name: client_id, type: int, required: true }
              - { name: email, type: string, required: true, lowercase: true, pattern: "^[^@ ]+@[^@ ]+$" }
              - { name: country, type: string, uppercase: true, accepted_values: [FR, DE, ES] }
              - { name: signup_date, type: date, formats: ["%Y-%m-%d", "%d/%m/%Y"] }
              - name: full_name
                source: "Full Name"
                trim: false
          purchases:
            key: [purchase_id, line]
            columns:
              - { name: purchase_id, type: int, required: true }
              - { name: line, type: int }
              - { name: client_id, type: int, required: true, references: clients.client_id }
              - { name: unit_price, type: decimal, min: 0, max: 10000.5, scale: 2 }
              - { name: paid, type: bool }
              - { name: bought_at, type: timestamp, timezone: Europe/Paris }
              - { name: shipped_on, type: date }
        """)
        XCTAssertEqual(Set(rules.tables.keys), ["clients", "purchases"])

        let clients = try XCTUnwrap(rules.tables["clients"])
        XCTAssertEqual(clients.name, "clients")
        XCTAssertEqual(clients.key, ["client_id"])
        XCTAssertEqual(clients.columns.map(\.name), ["client_id", "email", "country", "signup_date", "full_name"])
        XCTAssertEqual(clients.columns.map(\.type), [.int, .string, .string, .date, .string])
        XCTAssertEqual(clients.columns.map(\.required), [true, true, false, false, false])
        XCTAssertEqual(clients.columns[1].lowercase, true)
        XCTAssertEqual(clients.columns[1].pattern, "^[^@ ]+@[^@ ]+$")
        XCTAssertEqual(clients.columns[2].uppercase, true)
        XCTAssertEqual(clients.columns[2].acceptedValues, ["FR", "DE", "ES"])
        XCTAssertEqual(clients.columns[3].formats.map(\.text), ["%Y-%m-%d", "%d/%m/%Y"])
        XCTAssertEqual(clients.columns[4].source, "Full Name")
        XCTAssertEqual(clients.columns[4].trim, false)
        XCTAssertEqual(clients.columns[0].source, "client_id", "source defaults to the name")
        XCTAssertEqual(clients.columns[0].trim, true, "trim defaults to true")
        XCTAssertNil(clients.columns[0].acceptedValues)
        XCTAssertNil(clients.columns[0].references)

        let purchases = try XCTUnwrap(rules.tables["purchases"])
        XCTAssertEqual(purchases.key, ["purchase_id", "line"])
        let reference = try XCTUnwrap(purchases.columns[2].references)
        XCTAssertEqual(reference.table, "clients")
        XCTAssertEqual(reference.column, "client_id")
        XCTAssertEqual(purchases.columns[3].minimum, 0)
        XCTAssertEqual(purchases.columns[3].maximum, 10000.5)
        XCTAssertEqual(purchases.columns[3].scale, 2)
        XCTAssertNil(purchases.columns[0].scale)
        XCTAssertEqual(purchases.columns[4].type, .bool)
        XCTAssertEqual(purchases.columns[5].timeZone.identifier, "Europe/Paris")
        XCTAssertEqual(purchases.columns[0].timeZone.secondsFromGMT(), 0, "UTC by default")
        // No extra formats: ISO 8601 is always read (ISODateParser), so nothing is listed by default.
        XCTAssertEqual(purchases.columns[5].formats.map(\.text), [])
        XCTAssertEqual(purchases.columns[6].formats.map(\.text), [])
    }

    func testUnknownColumnField() {
        XCTAssertEqual(error("""
        tables:
          clients:
            columns:
              - { name: client_id, type: int }
              - { name: email, colour: red }
        """), "rules.yaml:5: tables.clients.columns[1].colour: unknown field (fields: name, source, type, required, trim, lowercase, uppercase, formats, timezone, min, max, accepted_values, pattern, references, scale)")
    }

    func testUnknownTableAndTopLevelFields() {
        XCTAssertEqual(error("""
        tables:
          clients:
            keys: [client_id]
            columns:
              - { name: client_id }
        """), "rules.yaml:3: tables.clients.keys: unknown field (fields: key, columns, currency, max_reject_ratio, allow_empty, format)")
        XCTAssertEqual(error("""
        tables:
          clients:
            columns:
              - { name: client_id }
        checks: []
        """), "rules.yaml:5: rules.checks: unknown field (fields: tables)")
    }

    func testBadType() {
        XCTAssertEqual(error("""
        tables:
          clients:
            columns:
              - { name: client_id, type: int }
              - name: age
                type: integer
        """), "rules.yaml:6: tables.clients.columns[1].type: 'integer' is not a type (string, int, decimal, bool, date, timestamp, uuid)")
    }

    func testBadFormat() {
        XCTAssertEqual(error("""
        tables:
          events:
            columns:
              - { name: day, type: date, formats: ["%Y-%m-%d", "%d %b %Y"] }
        """), "rules.yaml:4: tables.events.columns[0].formats[1]: format '%d %b %Y': %b is not supported (use %Y %m %d %H %M %S %z)")
    }

    func testKeyThatIsNotAColumn() {
        XCTAssertEqual(error("""
        tables:
          clients:
            columns:
              - { name: client_id, type: int }
              - { name: email }
            key: [client_id, mail]
        """), "rules.yaml:6: tables.clients.key: 'mail' is not one of the table's columns")
    }

    func testOtherErrors() {
        func columns(_ column: String) -> String { "tables:\n  t:\n    columns:\n      - \(column)\n" }
        XCTAssertEqual(error(columns("{ name: 1st }")),
                       "rules.yaml:4: tables.t.columns[0].name: silver.clean: column '1st' must be letters, digits and _ (not starting with a digit)")
        XCTAssertEqual(error(columns("{ type: int }")), "rules.yaml:4: tables.t.columns[0].name: is required")
        XCTAssertEqual(error(columns("{ name: at, type: timestamp, timezone: Mars/Olympus }")),
                       "rules.yaml:4: tables.t.columns[0].timezone: 'Mars/Olympus' is not an IANA time zone")
        XCTAssertEqual(error(columns("{ name: n, type: int, min: low }")), "rules.yaml:4: tables.t.columns[0].min: must be a number")
        XCTAssertEqual(error(columns("{ name: n, type: decimal, scale: 2.5 }")), "rules.yaml:4: tables.t.columns[0].scale: must be a whole number")
        XCTAssertEqual(error(columns("{ name: n, required: maybe }")), "rules.yaml:4: tables.t.columns[0].required: must be true or false")
        XCTAssertEqual(error(columns("{ name: c, references: clients }")), "rules.yaml:4: tables.t.columns[0].references: 'clients' must be TABLE.COLUMN")
        XCTAssertEqual(error(columns("{ name: c, pattern: \"([a-z\" }")), "rules.yaml:4: tables.t.columns[0].pattern: '([a-z' is not a regular expression")
        XCTAssertEqual(error(columns("just_a_name")), "rules.yaml:4: tables.t.columns[0]: must be a map")
        XCTAssertEqual(error("tables:\n  t:\n    key: [a]\n"), "rules.yaml:3: tables.t.columns: is required")
        XCTAssertEqual(error("tables:\n  bad-name:\n    columns:\n      - { name: a }\n"),
                       "rules.yaml:3: tables.bad-name: silver.clean: table 'bad-name' must be letters, digits and _ (not starting with a digit)")
        XCTAssertEqual(error("other: 1\n"), "rules.yaml:1: rules.other: unknown field (fields: tables)")
        XCTAssertTrue(error("tables: [\n").contains("not valid YAML"))
    }

    func testMissingFile() {
        let path = directory.file("absent.yaml")
        XCTAssertThrowsError(try CleaningRules.load(path: path)) { error in
            XCTAssertEqual((error as? TransformError)?.description, "cannot read \(path)")
        }
    }

    func testFieldsThatDoNotFitTheColumnTypeAreErrors() {
        XCTAssertEqual(error("""
        tables:
          clients:
            columns:
              - { name: client_id, formats: ["%d/%m/%Y"] }
        """), "rules.yaml:4: tables.clients.columns[0].formats: applies to date and timestamp columns only (this one is string)")
        XCTAssertEqual(error("""
        tables:
          clients:
            columns:
              - { name: age, type: int, scale: 2 }
        """), "rules.yaml:4: tables.clients.columns[0].scale: applies to decimal columns only (this one is int)")
        XCTAssertEqual(error("""
        tables:
          clients:
            columns:
              - { name: code, type: uuid, min: 0 }
        """), "rules.yaml:4: tables.clients.columns[0].min: applies to int and decimal columns only (this one is uuid)")
        XCTAssertEqual(error("""
        tables:
          clients:
            columns:
              - { name: code, timezone: Europe/Paris }
        """), "rules.yaml:4: tables.clients.columns[0].timezone: applies to date and timestamp columns only (this one is string)")
        XCTAssertEqual(error("""
        tables:
          clients:
            columns:
              - { name: code, lowercase: true, uppercase: true }
        """), "rules.yaml:4: tables.clients.columns[0].uppercase: cannot be set together with lowercase")
        XCTAssertEqual(error("""
        tables:
          clients:
            columns:
              - { name: at, type: timestamp, timezone: Mars/Olympus }
        """), "rules.yaml:4: tables.clients.columns[0].timezone: 'Mars/Olympus' is not an IANA time zone")
    }

    func testReferencesNameADeclaredColumn() {
        XCTAssertEqual(error("""
        tables:
          purchases:
            columns:
              - name: client_id
                references: customers.client_id
        """), "rules.yaml:5: tables.purchases.columns[0].references: table 'customers' has no rules (tables: purchases)")
        XCTAssertEqual(error("""
        tables:
          clients:
            columns:
              - { name: id }
          purchases:
            columns:
              - { name: client_id, references: clients.client_id }
        """), "rules.yaml:7: tables.purchases.columns[0].references: 'client_id' is not a column of clients (columns: id)")
        XCTAssertEqual(error("""
        tables:
          clients:
            columns:
              - { name: id }
          purchases:
            columns:
              - { name: client_id, type: int, references: clients.id }
        """), "rules.yaml:7: tables.purchases.columns[0].references: client_id is int but clients.id is string")
    }

    func testRepeatedKeysAndNonFiniteNumbersAreErrors() {
        XCTAssertEqual(error("""
        tables:
          clients:
            columns:
              - { name: age, type: int, type: decimal }
        """), "rules.yaml: not valid YAML: Parser: expected all keys to be unique but found the following duplicated key(s): 'type'.",
                       "Yams refuses a repeated key, so no value silently wins")
        XCTAssertEqual(error("""
        tables:
          clients:
            columns:
              - { name: age, type: int, min: .nan }
        """), "rules.yaml:4: tables.clients.columns[0].min: must be a number")
        XCTAssertEqual(error("""
        tables:
          clients:
            max_reject_ratio: lots
            columns:
              - { name: age }
        """), "rules.yaml:3: tables.clients.max_reject_ratio: must be a number")
    }
}
