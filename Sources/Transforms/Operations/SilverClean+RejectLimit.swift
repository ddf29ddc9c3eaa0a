import Foundation

/// The reject limit: a day whose rows break the rules too often fails instead of publishing what is left.
extension SilverClean {
    /// The day's rows break the rules too often to publish: the rejects go to `quarantine/<table>/ds=<ds>/`
    /// (rejects.csv and quality.json), which nothing reads as data, and the silver partition stays as it was.
    static func quarantine(_ staging: LakeStaging, report: Report, context: TransformContext) throws(TransformError) {
        for name in ["data.csv", ".valid.csv", ".duplicates.csv"] { unlink(staging.path(name)) }
        // CSV copies of Parquet bronze files.
        for name in (try? FileManager.default.contentsOfDirectory(atPath: staging.folder)) ?? [] where name.hasPrefix(".bronze-") {
            unlink(staging.path(name))
        }
        try JSONFile.write(report.json, to: staging.path("quality.json"))
        do { try context.lake.publish(staging.retargeted(to: try LakePartition(table: "quarantine/\(report.table)", ds: report.ds))) } catch {
            context.lake.discard(staging)
            throw error
        }
    }

    /// The share of rejected rows went over the table's `max_reject_ratio`. Immutable and caught in the same
    /// call, so the report's JSON-shaped examples never cross a concurrency domain.
    struct RejectLimitExceeded: Error, @unchecked Sendable {
        let report: Report
        let limit: Double

        var topReasons: [(rule: String, count: Int)] {
            report.rejected.filter { $0.key != "duplicate" }.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
                .prefix(5).map { ($0.key, $0.value) }
        }

        var message: String {
            let reasons = topReasons.map { "\($0.rule) \($0.count)" }.joined(separator: ", ")
            return "silver.clean: table \(report.table) ds=\(report.ds): \(report.rejectedRows) of \(report.rowsIn) rows rejected ("
                + String(format: "%.1f%%", report.rejectRatio * 100) + ", above max_reject_ratio \(ColumnCleaner.format(limit, scale: nil))): "
                + "\(reasons); nothing published, rejects kept in quarantine/\(report.table)/ds=\(report.ds)/rejects.csv"
        }

        var details: [String: Any] {
            ["table": report.table, "ds": report.ds, "rows_in": report.rowsIn, "rejected": report.rejectedRows,
             "ratio": report.rejectRatio, "max_reject_ratio": limit,
             "top_reasons": topReasons.map { ["rule": $0.rule, "count": $0.count] as [String: Any] },
             "examples": report.examples, "rejects": "quarantine/\(report.table)/ds=\(report.ds)/rejects.csv"]
        }
    }
}
