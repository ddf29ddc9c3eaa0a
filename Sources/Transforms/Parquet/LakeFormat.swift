import Foundation

/// How a silver or gold partition keeps its rows: `data.csv` (the default) or `data.parquet`, written through
/// DuckDB with typed columns. The rest of a partition (`_schema.json`, `rejects.csv`, `quality.json`) is the same
/// in both. Readers pick by file name, partition by partition, so a table may hold CSV days and Parquet days.
public enum LakeFormat: String, Sendable, CaseIterable {
    case csv, parquet

    /// The partition's data file.
    var dataFile: String { "data.\(rawValue)" }

    /// The DAG-wide default: the DAG's param `lake_format`, which every task receives as
    /// `ORCHESTRATOR_PARAM_LAKE_FORMAT` (and `--param lake_format=…` overrides for a run).
    static let parameter = "ORCHESTRATOR_PARAM_LAKE_FORMAT"

    /// The format of a table: its own declaration (a rules table's `format:`, a model's `-- format:` line), else
    /// the task's `format` option, else the DAG's param, else CSV. A value other than csv or parquet is an error
    /// naming where it was written.
    static func resolve(table: LakeFormat?, option: String?, operation: String,
                        environment: [String: String] = ProcessInfo.processInfo.environment) throws(TransformError) -> LakeFormat {
        if let table { return table }
        if let option { return try parse(option, where: "\(operation): option 'format'") }
        if let param = environment[parameter], !param.isEmpty { return try parse(param, where: "\(operation): params.lake_format") }
        return .csv
    }

    static func parse(_ text: String, where place: String) throws(TransformError) -> LakeFormat {
        guard let format = LakeFormat(rawValue: text.trimmingCharacters(in: .whitespaces).lowercased()) else {
            throw TransformError("\(place): '\(text.prefix(40))' is not a lake format (csv or parquet)")
        }
        return format
    }

    /// The data file of a published partition: `data.parquet` or `data.csv` (a partition holds one of them; were
    /// both there, Parquet is what was published last by a writer of this version), or nil for none.
    static func dataFile(in content: LakeContent) -> (file: LakeFile, format: LakeFormat)? {
        if let parquet = content.file(named: LakeFormat.parquet.dataFile) { return (parquet, .parquet) }
        if let csv = content.file(named: LakeFormat.csv.dataFile) { return (csv, .csv) }
        return nil
    }
}
