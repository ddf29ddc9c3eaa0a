import Foundation

/// `silver.clean`: applies the declarative rules of a YAML file (see `CleaningRules`) to the day's bronze
/// CSV of each table. Options: `rules` (path, relative to the DAG folder), `source` (bronze source name),
/// `tables` (default: every table of the rules file, referenced tables first).
///
/// Writes `silver/<table>/ds=<ds>/`: `data.csv` (the declared columns, cleaned) or, for a table whose format is
/// parquet (`format:` in the rules, the `format` option, or the DAG's param `lake_format`), `data.parquet` with
/// typed columns; `rejects.csv` (each broken row with its line, rule and reason), `quality.json` (rows in and
/// out, rejects per rule) and `_schema.json` (column types and the format, for loading). The partition is
/// replaced atomically; the log gets a one-line summary per table. Bronze files may be CSV or Parquet.
public enum SilverClean: TransformOperation {
    public static let name = "silver.clean"

    public static func run(_ options: TransformOptions, _ context: TransformContext) throws(TransformError) {
        try options.allowOnly(["rules", "source", "tables", "format"])
        let formatOption = try options.optionalString("format")
        let rulesPath = context.resolve(try options.string("rules"))
        let rules = try CleaningRules.load(path: rulesPath)
        let source = try options.string("source")
        var tables = try options.strings("tables")
        if tables.isEmpty { tables = orderByReferences(rules) }
        for table in tables {
            guard let tableRules = rules.tables[table] else {
                throw TransformError("\(name): table '\(table)' has no rules in \(rulesPath) (tables: \(rules.tables.keys.sorted().joined(separator: ", ")))")
            }
            let format = try LakeFormat.resolve(table: tableRules.format, option: formatOption, operation: name)
            let report = try clean(tableRules, source: source, format: format, context: context)
            context.log(report.summary)
            context.results.output("silver/\(table)/ds=\(context.ds)", rows: report.rowsOut, quality: report.json)
        }
    }

    /// Tables referenced by others come first, so foreign keys see the same day's data.
    static func orderByReferences(_ rules: CleaningRules) -> [String] {
        var ordered: [String] = []
        func visit(_ name: String, _ seen: Set<String>) {
            guard !ordered.contains(name), !seen.contains(name), let table = rules.tables[name] else { return }
            for column in table.columns { if let reference = column.references { visit(reference.table, seen.union([name])) } }
            ordered.append(name)
        }
        for name in rules.tables.keys.sorted() { visit(name, []) }
        return ordered
    }

    struct Report {
        var table: String
        var ds: String
        var rowsIn = 0
        var rowsOut = 0
        var rejected: [String: Int] = [:]
        var files: [String] = []
        /// The first rejected rows: file, line, rule, reason.
        var examples: [[String: Any]] = []
        static let exampleLimit = 5

        /// Rejected rows other than superseded duplicates.
        var rejectedRows: Int { rejected.filter { $0.key != "duplicate" }.values.reduce(0, +) }
        var rejectRatio: Double { rowsIn == 0 ? 0 : Double(rejectedRows) / Double(rowsIn) }

        var summary: String {
            let rejects = rejected.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
            return "silver.clean \(table) ds=\(ds): \(rowsIn) rows in, \(rowsOut) out" + (rejects.isEmpty ? ", none rejected" : ", rejected: \(rejects)")
        }

        var json: [String: Any] {
            ["table": table, "ds": ds, "rows_in": rowsIn, "rows_out": rowsOut, "rejected": rejected, "files": files,
             "rejected_total": rejected.values.reduce(0, +), "reject_ratio": rejectRatio, "examples": examples]
        }
    }

    static func clean(_ table: CleaningRules.TableRules, source: String, format: LakeFormat = .csv,
                      context: TransformContext) throws(TransformError) -> Report {
        let bronze = try LakePartition(table: "bronze/\(source)/\(table.name)", ds: context.ds)
        let inputFiles = try context.lake.content(of: bronze).files.filter { $0.name.hasSuffix(".csv") || $0.name.hasSuffix(".parquet") }
        guard !inputFiles.isEmpty else {
            throw TransformError("\(name): no bronze data for \(table.name) at \(context.ds) (expected CSV or Parquet files in \(context.lake.description)/\(bronze))")
        }
        // Messages name each file where the lake keeps it; the reader gets a local copy.
        let inputs = inputFiles.map(\.displayPath)
        var cleaners = table.columns.map(ColumnCleaner.init(rule:))
        for index in cleaners.indices {
            if let reference = cleaners[index].rule.references {
                cleaners[index].knownReferences = try knownKeys(table: reference.table, column: reference.column,
                                                                integer: cleaners[index].rule.type == .int, upTo: context.ds, lake: context.lake,
                                                                scratch: ParquetFiles.scratchFolder(home: context.home))
            }
        }
        let byteCleaners = cleaners.map(ByteColumnCleaner.init)
        var report = Report(table: table.name, ds: context.ds)
        let partition = try LakePartition(table: "silver/\(table.name)", ds: context.ds)
        let staging = try context.lake.stage(partition)
        do {
            let keyPositions = table.key.compactMap { key in table.columns.firstIndex { $0.name == key } }
            let validPath = table.key.isEmpty ? staging.path("data.csv") : staging.path(".valid.csv")
            let valid = try wrap { () throws(CSVWriter.Failure) in try CSVWriter(path: validPath) }
            try wrap { () throws(CSVWriter.Failure) in try valid.write(table.outputColumns.map(\.name)) }
            let conversion = table.currency.flatMap { currency in
                table.columns.firstIndex { $0.name == currency.amountColumn }.flatMap { amount in
                    table.columns.firstIndex { $0.name == currency.currencyColumn }.map { (currency, amount, $0) }
                }
            }
            var rejects: CSVWriter?
            var rejectHeader: [String] = []
            // Dedupe, last row wins: where each key's latest valid row starts in the valid file; a row is
            // superseded when its key comes again, and is then cut out of the file without parsing the rest.
            let lastRowOfKey = ByteKeyMap()
            // A composite key: each value's length (4 bytes) then its bytes, so no two keys run together.
            let compositeKey = ByteBuffer(capacity: 256)
            // A single integer key (the usual case) is tracked as an Int: far cheaper to hash than text.
            let integerKey = keyPositions.count == 1 && table.columns[keyPositions[0]].type == .int
            var lastRowOfIntegerKey = IntegerKeyIndex()
            var supersededRowStarts: [Int] = []
            var validRows = 0

            // The cleaned values of the current row, one after another; value `i` ends at `valueEnds[i]`.
            let values = ByteBuffer()
            var valueEnds = [Int](repeating: 0, count: table.outputColumns.count)
            func valueRange(_ index: Int) -> Range<Int> { (index == 0 ? 0 : valueEnds[index - 1])..<valueEnds[index] }
            func value(_ index: Int) -> String { String(decoding: values.bytes(valueRange(index)), as: UTF8.self) }
            let noBytes = UnsafeBufferPointer<UInt8>(start: nil, count: 0)

            for (fileIndex, inputFile) in inputFiles.enumerated() {
                let input = inputFile.displayPath
                let file = inputFile.name
                report.files.append(file)
                var localInput = try context.lake.localPath(of: inputFile)
                // A Parquet bronze file is read as its CSV copy (a dot file of the staging folder, never published);
                // its rows are then numbered from 1, where a CSV file's lines count the header.
                let parquetInput = file.hasSuffix(".parquet")
                if parquetInput {
                    let copy = staging.path(".bronze-\(fileIndex).csv")
                    try ParquetFiles.csvCopy(of: localInput, to: copy, what: "\(name): reading \(input)")
                    localInput = copy
                }
                var recordNumber = 0
                let reader = try wrap { () throws(CSVReader.Failure) in try CSVFieldScanner(path: localInput) }
                guard try wrap({ () throws(CSVReader.Failure) in try reader.next() }) else { continue }
                let header = reader.strings()
                // The input field of each rule; schema drift fails here, before any row.
                let positions: [Int]
                do { positions = try HeaderMatch.positions(header: header, columns: table.columns, file: input) } catch {
                    throw SchemaDrift(failure: error)
                }
                if rejects == nil {
                    rejectHeader = header
                    rejects = try wrap { () throws(CSVWriter.Failure) in try CSVWriter(path: staging.path("rejects.csv")) }
                    try wrap { () throws(CSVWriter.Failure) in try rejects?.write(["_file", "_line", "_rule", "_reason"] + rejectHeader) }
                }
                // rejects.csv has the first file's columns: this file's field for each of them (files may order
                // their columns differently), or nil.
                let normalizedHeader = header.map { ColumnCleaner.trimmed($0).lowercased() }
                let rejectFields = rejectHeader.map { name in normalizedHeader.firstIndex(of: ColumnCleaner.trimmed(name).lowercased()) }
                let sameLayout = normalizedHeader == rejectHeader.map { ColumnCleaner.trimmed($0).lowercased() }
                while try wrap({ () throws(CSVReader.Failure) in try reader.next() }) {
                    recordNumber += 1
                    if reader.fieldCount == 1 && reader.field(0).isEmpty { continue }  // blank line
                    report.rowsIn += 1
                    let line = parquetInput ? recordNumber : reader.line
                    values.removeAll()
                    var failure: (String, String)?
                    if reader.fieldCount != header.count {
                        // A cut-off last line, or an unquoted comma (`12,50`) that shifted the fields.
                        failure = ("columns", "the row has \(reader.fieldCount) field\(reader.fieldCount == 1 ? "" : "s"), the header \(header.count)"
                                   + (reader.fieldCount < header.count ? " (cut off?)" : " (an unquoted comma?)"))
                    }
                    for index in 0..<cleaners.count where failure == nil {
                        let position = positions[index]
                        let raw = position >= 0 && position < reader.fieldCount ? reader.field(position) : noBytes
                        let valueStart = values.count
                        if !byteCleaners[index].clean(raw, into: values) {
                            values.truncate(to: valueStart)
                            switch cleaners[index].clean(String(decoding: raw, as: UTF8.self)) {
                            case .value(let value): values.append(value)
                            case .rejected(let rule, let reason): failure = (rule, reason)
                            }
                            if failure != nil { break }
                        }
                        valueEnds[index] = values.count
                    }
                    if failure == nil, let (currency, amountIndex, currencyIndex) = conversion {
                        let code = value(currencyIndex).uppercased()
                        if let rate = currency.rates[code] {
                            let amount = value(amountIndex)
                            if !amount.isEmpty {
                                values.append(ColumnCleaner.format((Double(amount) ?? 0) * rate, scale: currency.scale))
                            }
                            valueEnds[table.columns.count] = values.count
                        } else {
                            failure = ("currency", "\(currency.currencyColumn) '\(value(currencyIndex))' has no rate in the rates file")
                        }
                    }
                    if let (rule, reason) = failure {
                        report.rejected[rule, default: 0] += 1
                        if report.examples.count < Report.exampleLimit {
                            report.examples.append(["file": file, "line": line, "rule": rule, "reason": reason])
                        }
                        try wrap { () throws(CSVWriter.Failure) in
                            let raw = sameLayout ? reader.strings() : rejectFields.map { index in
                                index.map { $0 < reader.fieldCount ? String(decoding: reader.field($0), as: UTF8.self) : "" } ?? ""
                            }
                            try rejects?.write([file, String(line), rule, reason] + raw)
                        }
                        continue
                    }
                    let rowStart = valid.position
                    try wrap { () throws(CSVWriter.Failure) in
                        try valueEnds.withUnsafeBufferPointer { ends throws(CSVWriter.Failure) in try valid.write(values.bytes, fieldEnds: ends) }
                    }
                    if integerKey {
                        // An empty key is no Int: such rows are all kept.
                        if let key = ByteColumnCleaner.parseInteger(values.bytes(valueRange(keyPositions[0]))) ?? Int(value(keyPositions[0])),
                           let previous = lastRowOfIntegerKey.updateValue(rowStart, forKey: key) {
                            supersededRowStarts.append(previous)
                        }
                    } else if keyPositions.count == 1 {
                        if let previous = lastRowOfKey.updateValue(rowStart, forKey: values.bytes(valueRange(keyPositions[0]))) {
                            supersededRowStarts.append(previous)
                        }
                    } else if !keyPositions.isEmpty {
                        compositeKey.removeAll()
                        for position in keyPositions {
                            var length = UInt32(truncatingIfNeeded: valueRange(position).count)
                            withUnsafeBytes(of: &length) { compositeKey.append($0) }
                            compositeKey.append(values.bytes(valueRange(position)))
                        }
                        if let previous = lastRowOfKey.updateValue(rowStart, forKey: compositeKey.bytes) {
                            supersededRowStarts.append(previous)
                        }
                    }
                    validRows += 1
                }
            }
            report.rowsOut = validRows
            // A Parquet table's CSV is an intermediate: the Parquet file is what the publish makes durable.
            let durable = format == .csv
            // Empty or header-only files everywhere: most likely a broken export, not a quiet day.
            if report.rowsIn == 0 && !table.allowEmpty { throw EmptyInput(inputs: inputs) }
            if report.rejectRatio > table.maxRejectRatio {
                try wrap { () throws(CSVWriter.Failure) in
                    try valid.commit(sync: false)
                    try rejects?.commit()
                }
                throw RejectLimitExceeded(report: report, limit: table.maxRejectRatio)
            }
            if !keyPositions.isEmpty && supersededRowStarts.isEmpty {
                // No key came twice: the valid file is the data, as written.
                try wrap { () throws(CSVWriter.Failure) in try valid.commit(sync: durable) }
                guard rename(validPath, staging.path("data.csv")) == 0 else {
                    throw TransformError("cannot rename \(validPath): \(String(cString: strerror(errno)))")
                }
            } else if !keyPositions.isEmpty {
                let validEnd = valid.position
                try wrap { () throws(CSVWriter.Failure) in try valid.commit(sync: false) }
                // The last row of each key wins: copy the valid file without the superseded rows, which become
                // duplicate rejects (after the others, in file order).
                supersededRowStarts.sort()
                let data = try wrap { () throws(CSVWriter.Failure) in try CSVWriter(path: staging.path("data.csv")) }
                let duplicatesPath = staging.path(".duplicates.csv")
                let duplicates = try wrap { () throws(CSVWriter.Failure) in try CSVWriter(path: duplicatesPath) }
                // Under a header, as in the valid file: a first row starting with U+FEFF must not read as a BOM.
                try wrap { () throws(CSVWriter.Failure) in try duplicates.write(table.outputColumns.map(\.name)) }
                let copier = try wrap { () throws(CSVReader.Failure) in try FileRangeReader(path: validPath) }
                var copied = 0
                for rowStart in supersededRowStarts {
                    copied = try wrap { () throws(CSVWriter.Failure) in
                        try copier.copy(copied..<rowStart, to: data)
                        return try copier.copyRecord(at: rowStart, to: duplicates)
                    }
                }
                try wrap { () throws(CSVWriter.Failure) in
                    try copier.copy(copied..<validEnd, to: data)
                    try data.commit(sync: durable)
                    try duplicates.commit(sync: false)
                }
                unlink(validPath)
                let reason = "a later row has the same \(table.key.joined(separator: ", "))"
                // A superseded row is known by its cleaned values: each goes under the raw column it came from.
                let rawColumns = rejectHeader.map { ColumnCleaner.trimmed($0).lowercased() }
                let cleanedIndexOfRawColumn = rawColumns.map { name in table.columns.firstIndex { $0.source.lowercased() == name } }
                let reader = try wrap { () throws(CSVReader.Failure) in try CSVReader(path: duplicatesPath) }
                _ = try wrap { () throws(CSVReader.Failure) in try reader.next() }
                while let row = try wrap({ () throws(CSVReader.Failure) in try reader.next() }) {
                    report.rejected["duplicate", default: 0] += 1
                    try wrap { () throws(CSVWriter.Failure) in
                        try rejects?.write(["", "", "duplicate", reason] + cleanedIndexOfRawColumn.map { index in
                            index.flatMap { $0 < row.count ? row[$0] : nil } ?? ""
                        })
                    }
                }
                unlink(duplicatesPath)
                report.rowsOut = validRows - supersededRowStarts.count
            } else {
                try wrap { () throws(CSVWriter.Failure) in try valid.commit(sync: durable) }
            }
            try wrap { () throws(CSVWriter.Failure) in try rejects?.commit() }
            for index in inputFiles.indices { unlink(staging.path(".bronze-\(index).csv")) }
            if format == .parquet { try writeParquet(table, staging: staging, context: context) }
            try JSONFile.write(report.json, to: staging.path("quality.json"))
            try JSONFile.write(schema(table, format: format), to: staging.path("_schema.json"))
            try context.lake.publish(staging)
        } catch let exceeded as RejectLimitExceeded {
            try quarantine(staging, report: exceeded.report, context: context)
            let message = exceeded.message
            context.log(message)
            for example in exceeded.report.examples {
                context.log("    \(example["file"] ?? ""):\(example["line"] ?? ""): \(example["rule"] ?? ""): \(example["reason"] ?? "")")
            }
            context.results.problem("reject_limit", severity: "error", message: message, details: exceeded.details)
            throw TransformError(message)
        } catch let drift as SchemaDrift {
            context.lake.discard(staging)
            context.results.problem("schema_drift", severity: "error", message: drift.failure.description, details: ["table": table.name])
            throw drift.failure
        } catch let empty as EmptyInput {
            context.lake.discard(staging)
            let message = empty.message(table: table.name, ds: context.ds)
            context.log(message)
            context.results.problem("empty_input", severity: "error", message: message,
                                    details: ["table": table.name, "ds": context.ds, "files": empty.inputs])
            throw TransformError(message)
        } catch {
            context.lake.discard(staging)
            let failure = error as? TransformError ?? TransformError("\(error)")
            context.results.problem("silver_clean", severity: "error", message: failure.description, details: ["table": table.name])
            throw failure
        }
        return report
    }

    /// Values of `column` in every silver partition of `table` up to and including `ds`, read as bytes.
    /// A Parquet partition's column is read through a CSV copy in `scratch`.
    static func knownKeys(table: String, column: String, integer: Bool, upTo ds: String, lake: any Lake,
                          scratch: String) throws(TransformError) -> KnownKeys {
        let keys = KnownKeys(integer: integer)
        for partition in try lake.partitions(of: "silver/\(table)") where partition.ds <= ds {
            let content = try lake.content(of: partition)
            if let (data, format) = LakeFormat.dataFile(in: content) {
                let file = data.displayPath
                var local = try lake.localPath(of: data)
                // A Parquet partition's column in silver's text form, through a CSV copy.
                let copy = format == .parquet ? try keyColumnCopy(of: local, partition: content, column: column, file: file, lake: lake, scratch: scratch) : nil
                defer { if let copy { unlink(copy) } }
                if let copy { local = copy }
                let reader = try wrap { () throws(CSVReader.Failure) in try CSVFieldScanner(path: local) }
                guard try wrap({ () throws(CSVReader.Failure) in try reader.next() }), let position = reader.strings().firstIndex(of: column) else {
                    throw TransformError("\(name): \(file) has no column '\(column)' for the foreign key")
                }
                while try wrap({ () throws(CSVReader.Failure) in try reader.next() }) {
                    if position < reader.fieldCount { keys.add(reader.field(position)) }
                }
            }
        }
        keys.seal()
        return keys
    }
}

/// Runs CSV work, turning its errors into a TransformError.
func wrap<T, E: Error & CustomStringConvertible>(_ body: () throws(E) -> T) throws(TransformError) -> T {
    do { return try body() } catch { throw TransformError(error.description) }
}
