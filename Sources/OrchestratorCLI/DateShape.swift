import Foundation
import Transforms

/// The shape of a date or timestamp value: ISO 8601 as `silver.clean` reads it (Transforms' ISODateParser)
/// or slashed (`06/05/2024`, optionally with ` HH:MM:SS`).
struct DateShape: Equatable {
    var hasTime: Bool
    var slashed: Bool
    var first: Int
    var second: Int

    static let slashes = try? NSRegularExpression(pattern: #"^(\d{1,2})/(\d{1,2})/\d{4}( \d{2}:\d{2}:\d{2})?$"#)

    static func of(_ text: String) -> DateShape? {
        let range = NSRange(text.startIndex..., in: text)
        // ISO 8601 as silver.clean reads it: the suggester must not propose a type the cleaner then rejects.
        if ColumnValueChecks.isISODate(text) {
            let month = Int(text.dropFirst(5).prefix(2)) ?? 0, day = Int(text.dropFirst(8).prefix(2)) ?? 0
            return DateShape(hasTime: text.utf8.count > 10, slashed: false, first: day, second: month)
        }
        if let slashes, let match = slashes.firstMatch(in: text, range: range),
           let firstRange = Range(match.range(at: 1), in: text), let secondRange = Range(match.range(at: 2), in: text),
           let first = Int(text[firstRange]), let second = Int(text[secondRange]),
           (1...31).contains(first), (1...31).contains(second), first <= 12 || second <= 12 {
            return DateShape(hasTime: match.range(at: 3).location != NSNotFound, slashed: true, first: first, second: second)
        }
        return nil
    }
}
