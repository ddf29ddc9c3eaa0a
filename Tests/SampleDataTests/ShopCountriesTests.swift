import Foundation
import SampleData
import XCTest

/// The generator writes clients from `ShopGenerator.isoCountries`; dags/shop_lake/rules.yaml accepts its own
/// copy of the list. Were they to drift, valid clients would be rejected (or invalid ones kept) unnoticed.
final class ShopCountriesTests: XCTestCase {
    func testTheShopRulesAcceptExactlyTheGeneratorsCountries() throws {
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let rules = try String(contentsOf: repository.appendingPathComponent("dags/shop_lake/rules.yaml"), encoding: .utf8)
        // The country rule's list: the first `accepted_values: [ ... ]` after `name: country`.
        let country = try XCTUnwrap(rules.range(of: "name: country"), "no country rule in rules.yaml")
        let open = try XCTUnwrap(rules.range(of: "accepted_values: [", range: country.upperBound..<rules.endIndex))
        let list = rules[open.upperBound...].prefix { $0 != "]" }
        let accepted = list.split(separator: ",")
            .map { $0.trimmingCharacters(in: .whitespacesAndNewlines).trimmingCharacters(in: CharacterSet(charactersIn: "\"'")) }
            .filter { !$0.isEmpty }
        XCTAssertEqual(accepted.count, Set(accepted).count, "a country is listed twice in rules.yaml")
        XCTAssertEqual(ShopGenerator.isoCountries.count, Set(ShopGenerator.isoCountries).count, "a country is listed twice in the generator")
        XCTAssertEqual(Set(accepted).subtracting(ShopGenerator.isoCountries).sorted(), [], "accepted by rules.yaml, never generated")
        XCTAssertEqual(Set(ShopGenerator.isoCountries).subtracting(accepted).sorted(), [], "generated, rejected by rules.yaml")
    }
}
