/// The cleaning parsers' checks for tools outside the module (`orchestrator rules suggest`), so a suggested
/// type is exactly what `silver.clean` will read.
public enum ColumnValueChecks {
    /// A value a `uuid` column reads (see UUIDParser).
    public static func isUUID(_ text: String) -> Bool { UUIDParser.canonical(text) != nil }
    /// A value a `date` or `timestamp` column reads without `formats:` (see ISODateParser).
    public static func isISODate(_ text: String) -> Bool { ISODateParser.parse(text) != nil }
}
