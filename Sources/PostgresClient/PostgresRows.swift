import CLibPQ
import Foundation

/// The rows of one statement, read in place from libpq's result (freed with the value), and how many rows a
/// command changed.
public final class PostgresRows: Sequence {
    private let result: OpaquePointer?

    init(_ result: OpaquePointer?) { self.result = result }

    deinit { PQclear(result) }

    public var count: Int { Int(PQntuples(result)) }
    public var columnCount: Int { Int(PQnfields(result)) }
    public var isEmpty: Bool { count == 0 }

    /// Rows changed by an INSERT, UPDATE or DELETE (0 for other statements).
    public var affectedRows: Int {
        guard let text = PQcmdTuples(result) else { return 0 }
        return Int(String(cString: text)) ?? 0
    }

    public func columnName(_ column: Int) -> String { PQfname(result, Int32(column)).map { String(cString: $0) } ?? "" }

    public subscript(row: Int) -> PostgresRow { PostgresRow(rows: self, index: Int32(row)) }

    public var first: PostgresRow? { isEmpty ? nil : self[0] }

    public func makeIterator() -> AnyIterator<PostgresRow> {
        var index = 0
        return AnyIterator { [self] in
            guard index < count else { return nil }
            defer { index += 1 }
            return self[index]
        }
    }

    /// Every row as text (nil for NULL).
    public var texts: [[String?]] { map { row in (0..<columnCount).map { row.string($0) } } }

    fileprivate func text(_ row: Int32, _ column: Int) -> String? { value(row, column).map { String(cString: $0) } }

    /// The value's text in libpq's buffer (nil for NULL), read in place: numbers are parsed from it without a String.
    fileprivate func value(_ row: Int32, _ column: Int) -> UnsafePointer<CChar>? {
        guard column < columnCount, PQgetisnull(result, row, Int32(column)) == 0, let value = PQgetvalue(result, row, Int32(column)) else {
            return nil
        }
        return UnsafePointer(value)
    }
}

/// One row; columns by position, values converted from PostgreSQL's text form (nil for NULL or a value of another type).
public struct PostgresRow {
    fileprivate let rows: PostgresRows
    fileprivate let index: Int32

    public func string(_ column: Int) -> String? { rows.text(index, column) }
    public func int(_ column: Int) -> Int? { int64(column).map { Int(truncatingIfNeeded: $0) } }
    public func int64(_ column: Int) -> Int64? {
        guard let text = rows.value(index, column), text.pointee != 0 else { return nil }
        var end: UnsafeMutablePointer<CChar>?
        errno = 0
        let number = strtoll(text, &end, 10)
        return end?.pointee == 0 && errno == 0 ? Int64(number) : nil
    }
    /// strtod reads PostgreSQL's `Infinity`, `-Infinity` and `NaN` as well as its shortest round-trip digits.
    public func double(_ column: Int) -> Double? {
        guard let text = rows.value(index, column), text.pointee != 0 else { return nil }
        var end: UnsafeMutablePointer<CChar>?
        let number = strtod(text, &end)
        return end?.pointee == 0 ? number : nil
    }
    public func bool(_ column: Int) -> Bool? {
        switch string(column) {
        case "t", "true": return true
        case "f", "false": return false
        default: return nil
        }
    }
}
