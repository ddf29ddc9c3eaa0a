import Foundation

/// Brings the tables that `source()` names into the target before the models run:
/// - `source('silver', t)` → `silver_<t>`: every silver partition up to ds, with its `ds` column (as gold.sql
///   stages them), loading only the partitions the target lacks and always the run's own;
/// - `source('<extract source>', t)` → `<source>_<t>`: the run's bronze drop `bronze/<source>/<t>/ds=<ds>/*.csv`,
///   as extracted (every column text), plus `ds`; replaced whole each run;
/// - `source('seeds', name)` is the seed table (SeedLoader).
struct SourceLoader {
    let engine: any ModelEngine
    let context: TransformContext

    /// Returns the rows loaded (or present) for the run's ds.
    func load(_ source: SQLTemplate.SourceReference) throws(TransformError) -> Int? {
        switch source.source {
        case "seeds": return nil
        case "silver": return try loadSilver(source.table, into: source.relation)
        default: return try loadBronze(source, into: source.relation)
        }
    }

    func loadSilver(_ table: String, into relation: String) throws(TransformError) -> Int {
        let partitions = try context.lake.partitions(of: "silver/\(table)").filter { $0.ds <= context.ds }
        guard partitions.contains(where: { $0.ds == context.ds }) else {
            throw TransformError("\(ModelsRun.name): source('silver', '\(table)'): silver/\(table)/ds=\(context.ds) does not exist in the lake; run silver.clean first")
        }
        var present: Set<String> = []
        if try engine.relationKind(relation) == "table" {
            present = Set(try engine.query("SELECT DISTINCT ds FROM \(TableLoader.quote(relation))", [], limit: .max).rows.compactMap { $0.first ?? nil })
        }
        var rowsToday = 0
        var loaded = 0
        for partition in partitions where partition.ds == context.ds || !present.contains(partition.ds) {
            let content = try context.lake.content(of: partition)
            guard let csv = try context.lake.localPath(of: "data.csv", in: content) else { continue }
            let columns = try TableLoader.columns(schema: try context.lake.localPath(of: "_schema.json", in: content), csv: csv)
            var rows = 0
            try engine.transaction { () throws(TransformError) in
                if try engine.relationKind(relation) == nil { try engine.createTable(relation, columns: columns, withDS: true) }
                try engine.execute("DELETE FROM \(TableLoader.quote(relation)) WHERE ds = \(engine.placeholder(1))", [partition.ds])
                rows = try engine.load(csv: csv, into: relation, columns: columns, ds: partition.ds)
            }
            if partition.ds == context.ds { rowsToday = rows }
            loaded += 1
        }
        context.log("\(ModelsRun.name): source silver.\(table) → \(relation): \(loaded) partition\(loaded == 1 ? "" : "s") loaded, \(rowsToday) rows for ds=\(context.ds)")
        return rowsToday
    }

    func loadBronze(_ source: SQLTemplate.SourceReference, into relation: String) throws(TransformError) -> Int {
        let partition = try LakePartition(table: "bronze/\(source.source)/\(source.table)", ds: context.ds)
        let content = try context.lake.content(of: partition)
        let files = content.files.filter { $0.name.hasSuffix(".csv") }
        guard !files.isEmpty else {
            throw TransformError("\(ModelsRun.name): source('\(source.source)', '\(source.table)'): \(partition) holds no CSV file; run the extract first")
        }
        var paths: [String] = []
        for file in files { paths.append(try context.lake.localPath(of: file)) }
        let header = try TableLoader.columns(schema: nil, csv: paths[0])
        var rows = 0
        try engine.transaction { () throws(TransformError) in
            try engine.createTable(relation, columns: header, withDS: true)
            for path in paths { rows += try engine.load(csv: path, into: relation, columns: header, ds: context.ds) }
        }
        context.log("\(ModelsRun.name): source \(source.source).\(source.table) → \(relation): \(rows) rows from \(partition)")
        return rows
    }
}
