/// Failures of silver.clean that the task page shows under their own problem kind.
extension SilverClean {
    /// A bronze header does not match the table's declared columns.
    struct SchemaDrift: Error {
        let failure: TransformError
    }

    /// Every input file of the table is empty or has a header only (and the rules do not say `allow_empty`).
    struct EmptyInput: Error {
        let inputs: [String]

        func message(table: String, ds: String) -> String {
            "\(SilverClean.name): table \(table) ds=\(ds): no data rows in \(inputs.joined(separator: ", ")) (empty or header only); "
                + "nothing published (set allow_empty: true for \(table) in the rules if it may be empty some days)"
        }
    }
}
