/// One day of one table in the lake: `silver/clients` at `ds=2024-01-01`.
public struct LakePartition: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The table's place in the lake, e.g. `bronze/shop/clients`, `silver/clients`, `quarantine/clients`.
    public let table: String
    /// The logical date, `YYYY-MM-DD`.
    public let ds: String

    /// Both parts become lake keys built from DAG options: they must stay inside the lake.
    public init(table: String, ds: String) throws(TransformError) {
        try Self.validate(table)
        try Self.validate("ds=\(ds)")
        guard !ds.isEmpty, !ds.contains("/") else { throw TransformError("'ds=\(ds)' is not a partition name (one part, no '/')") }
        self.table = table
        self.ds = ds
    }

    /// `silver/clients/ds=2024-01-01`, relative to the lake's root.
    public var path: String { "\(table)/ds=\(ds)" }
    public var description: String { path }

    public static func < (lhs: LakePartition, rhs: LakePartition) -> Bool { (lhs.table, lhs.ds) < (rhs.table, rhs.ds) }

    /// A relative path without `..`, `.` or empty parts (names with dots inside are fine).
    public static func validate(_ path: String) throws(TransformError) {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        guard !path.isEmpty, !path.hasPrefix("/"), !parts.contains(where: { $0 == ".." || $0 == "." || $0.isEmpty }) else {
            throw TransformError("'\(path)' is not a lake path (relative, no '..' or empty parts)")
        }
    }

    /// The partition named by a child `ds=YYYY-MM-DD` of `table`, or nil for anything else found there.
    static func child(_ name: String, of table: String) -> LakePartition? {
        guard name.hasPrefix("ds="), !name.contains("/") else { return nil }
        return try? LakePartition(table: table, ds: String(name.dropFirst(3)))
    }
}
