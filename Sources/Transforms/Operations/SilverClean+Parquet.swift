import Foundation

/// silver.clean's Parquet output: the cleaned CSV is written as before, then DuckDB converts it with the types
/// the rules declare into `data.parquet` in the same staging folder, so the partition is still published whole by
/// the lake (or not at all).
extension SilverClean {
    /// Replaces the staged `data.csv` by `data.parquet`.
    static func writeParquet(_ table: CleaningRules.TableRules, staging: LakeStaging, context: TransformContext) throws(TransformError) {
        let csv = staging.path(LakeFormat.csv.dataFile)
        let columns = parquetColumns(table).map { (name: $0.name, type: ParquetFiles.silverType($0.type, scale: $0.scale)) }
        try ParquetFiles.write(csv: csv, columns: columns, to: staging.path(LakeFormat.parquet.dataFile),
                               what: "\(name): writing silver/\(table.name)/ds=\(context.ds) as Parquet")
        unlink(csv)
    }

    /// The output columns with the scale of each decimal (the converted amount's from `currency.scale`).
    static func parquetColumns(_ table: CleaningRules.TableRules) -> [(name: String, type: String, scale: Int?)] {
        table.columns.map { ($0.name, $0.type.rawValue, $0.scale) }
            + (table.currency.map { [($0.output, CleaningRules.ColumnType.decimal.rawValue, $0.scale)] } ?? [])
    }

    /// `_schema.json`: the columns (with each decimal's scale) and the partition's format.
    static func schema(_ table: CleaningRules.TableRules, format: LakeFormat) -> [String: Any] {
        let columns = parquetColumns(table).map { column -> [String: Any] in
            var entry: [String: Any] = ["name": column.name, "type": column.type]
            if column.type == "decimal", let scale = column.scale { entry["scale"] = scale }
            return entry
        }
        return ["columns": columns, "format": format.rawValue]
    }

    /// One column of a Parquet silver partition in silver's text form, as a CSV file in `scratch` (header first).
    static func keyColumnCopy(of parquet: String, partition: LakeContent, column: String, file: String, lake: any Lake,
                              scratch: String) throws(TransformError) -> String {
        let schema = try lake.localPath(of: "_schema.json", in: partition)
        let type = try ParquetFiles.schemaTypes(schema)[column] ?? "text"
        let copy = try ParquetFiles.scratchFile(in: scratch, suffix: ".csv")
        do {
            try ParquetFiles.csvCopy(of: parquet, select: ParquetFiles.silverValue(column, type: type), to: copy,
                                     what: "\(name): reading \(file) for the foreign key")
        } catch {
            unlink(copy)
            throw error
        }
        return copy
    }
}
