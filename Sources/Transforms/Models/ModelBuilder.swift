import Foundation

/// Builds one model in the target by its materialization, each in one transaction: a reader sees the previous
/// build or the new one, and a failure leaves the previous one.
struct ModelBuilder {
    let engine: any ModelEngine
    let compiler: ModelCompiler
    let context: TransformContext
    /// Interval bounds for incremental models: dates (`YYYY-MM-DD`) and UTC timestamps (`…THH:MM:SSZ`).
    let interval: (startDate: String, endDate: String, start: String, end: String)

    /// Builds the model; returns the rows it now holds (a view's current rows).
    func build(_ model: ModelDefinition, fullRefresh: Bool) throws(TransformError) -> Int {
        let quoted = TableLoader.quote(model.name)
        switch model.materialized {
        case .ephemeral:
            return 0
        case .view:
            let compiled = try compiler.compile(model.template, where: model.file, literals: true)
            try engine.transaction { () throws(TransformError) in
                if let kind = try engine.relationKind(model.name) { try engine.drop(model.name, kind: kind) }
                try engine.execute("CREATE VIEW \(quoted) AS\n\(compiled.sql)", [])
            }
        case .table:
            let compiled = try compiler.compile(model.template, where: model.file, literals: false)
            try engine.transaction { () throws(TransformError) in
                if let kind = try engine.relationKind(model.name) { try engine.drop(model.name, kind: kind) }
                try engine.execute("CREATE TABLE \(quoted) AS\n\(compiled.sql)", compiled.parameters)
            }
        case .incremental:
            try buildIncremental(model, fullRefresh: fullRefresh)
        }
        return try engine.count(model.name)
    }

    /// The interval test on a partition value: dates against the interval's dates, anything else as a UTC
    /// timestamp text against its bounds, compared on `YYYY-MM-DDTHH:MM:SS` whatever the separator and the tail
    /// (`2024-01-08 05:00:00` is after an end of `2024-01-08T00:00:00Z`, though a space sorts before a T).
    /// `first` is the position of the first of the four parameters `intervalBounds` gives.
    func inInterval(_ column: String, first: Int) -> String {
        let value = "CAST(\(column) AS TEXT)"
        let instant = "SUBSTR(REPLACE(\(value), ' ', 'T'), 1, 19)"
        let p = (0..<4).map { engine.placeholder(first + $0) }
        return "((LENGTH(\(value)) = 10 AND \(value) >= \(p[0]) AND \(value) < \(p[1])) OR (LENGTH(\(value)) <> 10 AND \(instant) >= \(p[2]) AND \(instant) < \(p[3])))"
    }

    /// The parameters of `inInterval`: the interval's dates, then its bounds as `YYYY-MM-DDTHH:MM:SS`.
    var intervalBounds: [String] { [interval.startDate, interval.endDate, String(interval.start.prefix(19)), String(interval.end.prefix(19))] }

    /// Deletes the target's rows of the run's interval, then inserts the model's rows, which must all lie in it.
    func buildIncremental(_ model: ModelDefinition, fullRefresh: Bool) throws(TransformError) {
        guard let partitionBy = model.partitionBy else { throw TransformError("\(model.file): an incremental model needs partition_by") }
        let compiled = try compiler.compile(model.template, where: model.file, literals: false)
        let quoted = TableLoader.quote(model.name)
        let batchName = "\(model.name)__batch"
        let batch = TableLoader.quote(batchName)
        let column = TableLoader.quote(partitionBy)
        let bounds = intervalBounds
        try engine.transaction { () throws(TransformError) in
            var kind = try engine.relationKind(model.name)
            if let existing = kind, existing != "table" || fullRefresh {
                try engine.drop(model.name, kind: existing)
                kind = nil
            }
            if let batchKind = try engine.relationKind(batchName) { try engine.drop(batchName, kind: batchKind) }
            try engine.execute("CREATE TABLE \(batch) AS\n\(compiled.sql)", compiled.parameters)
            let columns = try engine.columns(of: batchName)
            guard columns.contains(partitionBy) else {
                throw TransformError("\(model.file): partition_by column \(partitionBy) is not among the model's columns (\(columns.joined(separator: ", ")))")
            }
            let outside = try engine.query("SELECT \(column) FROM \(batch) WHERE \(column) IS NULL OR NOT \(inInterval(column, first: 1))", bounds, limit: 3).rows
            if !outside.isEmpty {
                let count = try engine.scalar("SELECT COUNT(*) FROM \(batch) WHERE \(column) IS NULL OR NOT \(inInterval(column, first: 1))", bounds) ?? "?"
                let examples = outside.map { $0.first.flatMap { $0 } ?? "NULL" }.joined(separator: ", ")
                throw TransformError("\(model.file): \(count) row(s) have \(partitionBy) outside the run's interval [\(interval.start), \(interval.end)) "
                                     + "(e.g. \(examples)); an incremental model writes its own interval only, nothing written")
            }
            let list = columns.map(TableLoader.quote).joined(separator: ", ")
            if kind == nil {
                try engine.execute("CREATE TABLE \(quoted) AS SELECT \(list) FROM \(batch) WHERE 1 = 0", [])
            } else {
                let existing = Set(try engine.columns(of: model.name))
                let missing = columns.filter { !existing.contains($0) }
                guard missing.isEmpty else {
                    throw TransformError("\(model.file): the model now has column(s) \(missing.joined(separator: ", ")) that table \(model.name) lacks; "
                                         + "run once with full_refresh: true (or --full-refresh) to rebuild it")
                }
            }
            try engine.execute("DELETE FROM \(quoted) WHERE \(inInterval(column, first: 1))", bounds)
            try engine.execute("INSERT INTO \(quoted) (\(list)) SELECT \(list) FROM \(batch)", [])
            try engine.drop(batchName, kind: "table")
        }
    }
}
