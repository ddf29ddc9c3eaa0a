import Foundation

/// `json.tables`: turns bronze JSON lines into flat tables, declared in a YAML file (`with: { spec: movies_daily/tables.yaml }`):
/// a table takes one row per record, or with `each: genres` one row per element of a nested array (a bridge), its
/// columns read by dotted path (`$.id` reaches the record from an element), typed (`int`, `real`, `text`, `date`,
/// `date_id`), optionally looked up in a CSV shipped with the DAG. Rows with the same `key` keep the last one. Each
/// table is written as `gold/<table>/ds=<ds>/` (data.csv, `_schema.json`) for load.warehouse and load.postgres.
/// A required value that is missing or a value of the wrong type fails the step, naming the file, line and field; an
/// empty table fails unless `allow_empty: true`.
public enum JSONTables: TransformOperation {
    public static let name = "json.tables"
    /// Bound on the rows kept per table (they are deduplicated in memory).
    static let maxRows = 5_000_000

    public static func run(_ options: TransformOptions, _ context: TransformContext) throws(TransformError) {
        try options.allowOnly(["spec", "tables"])
        let specPath = context.resolve(try options.string("spec"))
        var tables = try readSpec(specPath, context: context)
        let only = try options.strings("tables")
        if !only.isEmpty {
            for table in only where !tables.contains(where: { $0.name == table }) {
                throw TransformError("\(name): table '\(table)' is not in \(specPath)")
            }
            tables = tables.filter { only.contains($0.name) }
        }
        var bronze: [String: String] = [:]
        var stagings: [LakeStaging] = []
        do {
            for table in tables {
                let rows: [[String?]]
                switch table.origin {
                case .day:
                    rows = [try table.columns.map { (column: Column) throws(TransformError) -> String? in
                        try value(of: column, element: [:], record: [:], at: "\(specPath): \(table.name).\(column.name)", ds: context.ds)
                    }]
                case .bronze(let source, let bronzeTable):
                    let key = "\(source)/\(bronzeTable)"
                    if bronze[key] == nil { bronze[key] = try bronzeFile(source: source, table: bronzeTable, context: context) }
                    rows = try build(table, file: bronze[key] ?? "", ds: context.ds)
                }
                guard !rows.isEmpty || table.allowEmpty else {
                    throw TransformError("\(name): table \(table.name) came out empty from \(specPath) (set allow_empty: true if that is expected)")
                }
                let partition = try LakePartition(table: "gold/\(table.name)", ds: context.ds)
                let staging = try context.lake.stage(partition)
                stagings.append(staging)
                let writer = try wrap { () throws(CSVWriter.Failure) in try CSVWriter(path: staging.path("data.csv")) }
                try wrap { () throws(CSVWriter.Failure) in
                    try writer.write(table.columns.map(\.name))
                    for row in rows { try writer.write(row.map { $0 ?? "" }) }
                    try writer.commit()
                }
                try JSONFile.write(["columns": table.columns.map { ["name": $0.name, "type": $0.kind.schemaType] }, "key": table.key,
                                    "materialized": "table", "rows": rows.count, "ds": context.ds], to: staging.path("_schema.json"))
                context.results.output(partition.path, rows: rows.count)
                context.log("json.tables: \(table.name) ← \(rows.count) rows")
            }
            // Published together at the end: a failure leaves the previous outputs of every table in place.
            for staging in stagings { try context.lake.publish(staging) }
        } catch {
            for staging in stagings { context.lake.discard(staging) }
            throw error as? TransformError ?? TransformError("\(name): \(error)")
        }
    }

    static func bronzeFile(source: String, table: String, context: TransformContext) throws(TransformError) -> String {
        let partition = try LakePartition(table: "bronze/\(source)/\(table)", ds: context.ds)
        guard let path = try context.lake.localPath(of: "records.jsonl", in: try context.lake.content(of: partition)) else {
            throw TransformError("\(name): \(partition) does not exist in the lake; run the step that extracts \(source)/\(table) first")
        }
        return path
    }

    /// The table's rows from one bronze file, deduplicated on the key (the last row wins, in the first one's place).
    static func build(_ table: Table, file: String, ds: String) throws(TransformError) -> [[String?]] {
        var rows: [[String?]] = []
        var positions: [[String?]: Int] = [:]
        let keyIndexes = table.key.compactMap { name in table.columns.firstIndex { $0.name == name } }
        try JSONLines.forEach(file) { (record: [String: Any], line: Int) throws(TransformError) in
            var elements: [Any] = [record]
            if let each = table.each {
                let nested = JSONLines.value(record, path: each)
                if nested == nil || nested is NSNull {
                    elements = []
                } else if let list = nested as? [Any] {
                    elements = list
                } else {
                    throw TransformError("\(file):\(line): \(each): not a list (\(table.name).each)")
                }
            }
            for (index, element) in elements.enumerated() {
                let at = "\(file):\(line): \(table.each.map { "\($0)[\(index)]." } ?? "")"
                let row = try table.columns.map { (column: Column) throws(TransformError) -> String? in
                    try value(of: column, element: element, record: record, at: at, ds: ds)
                }
                if keyIndexes.isEmpty {
                    rows.append(row)
                } else {
                    let key = keyIndexes.map { row[$0] }
                    if let position = positions[key] {
                        rows[position] = row
                    } else {
                        positions[key] = rows.count
                        rows.append(row)
                    }
                }
                guard rows.count <= maxRows else { throw TransformError("\(file):\(line): table \(table.name) passes \(maxRows) rows") }
            }
        }
        return rows
    }

    /// One column's value as CSV text (nil: NULL). `at` starts the error message (`file:line: path.`).
    static func value(of column: Column, element: Any, record: [String: Any], at: String, ds: String) throws(TransformError) -> String? {
        var raw: Any?
        switch column.source {
        case .path(let path, let fromRoot): raw = JSONLines.value(fromRoot ? record : element, path: path)
        case .day(let part): raw = dayPart(part, ds)
        }
        let field = { () -> String in
            if case .path(let path, let fromRoot) = column.source { return fromRoot ? "$.\(path)" : path }
            return column.name
        }()
        if raw is NSNull { raw = nil }
        if let text = raw as? String, text.isEmpty { raw = nil }
        var text: String?
        if let raw {
            text = try convert(raw, kind: column.kind, at: "\(at)\(field)")
            if let lookup = column.lookup, let key = text { text = lookup[key] }
        }
        if text == nil && column.required { throw TransformError("\(at)\(field): missing, and column \(column.name) is required") }
        return text
    }

    static func convert(_ raw: Any, kind: Column.Kind, at: String) throws(TransformError) -> String {
        switch kind {
        case .text:
            if let text = raw as? String { return text }
            if let number = raw as? NSNumber { return number.stringValue }
            throw TransformError("\(at): a \(raw is [Any] ? "list" : "map") where text was expected")
        case .int:
            if let number = raw as? NSNumber, let value = Int(exactly: number.doubleValue), abs(number.doubleValue) < 9e15 { return String(value) }
            if let text = raw as? String, let value = Int(text) { return String(value) }
            throw TransformError("\(at): '\(String(describing: raw).prefix(40))' is not a whole number")
        case .real:
            if let number = raw as? NSNumber, number.doubleValue.isFinite { return "\(number.doubleValue)" }
            if let text = raw as? String, let value = Double(text), value.isFinite { return "\(value)" }
            throw TransformError("\(at): '\(String(describing: raw).prefix(40))' is not a number")
        case .date, .date_id:
            guard let text = raw as? String, (try? TransformContext.checkDS(text)) != nil else {
                throw TransformError("\(at): '\(String(describing: raw).prefix(40))' is not a date (YYYY-MM-DD)")
            }
            return kind == .date ? text : text.replacingOccurrences(of: "-", with: "")
        }
    }

    /// Parts of the run's day (`ds` is checked to be a real date before any transform runs).
    static func dayPart(_ part: Column.DayPart, _ ds: String) -> String {
        let fields = ds.split(separator: "-").compactMap { Int($0) }
        guard fields.count == 3 else { return ds }
        switch part {
        case .date: return ds
        case .date_id: return ds.replacingOccurrences(of: "-", with: "")
        case .year: return String(fields[0])
        case .month: return String(fields[1])
        case .day: return String(fields[2])
        case .iso_weekday:
            // Days since 1970-01-01, a Thursday (ISO 4).
            let days = DateFields.daysFromCivil(fields[0], fields[1], fields[2])
            return String(((days % 7 + 7) % 7 + 3) % 7 + 1)
        }
    }
}
