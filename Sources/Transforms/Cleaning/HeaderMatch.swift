/// Where each rule's column sits in a bronze file's header. Headers compare trimmed and case-insensitively.
/// Schema drift fails at once, before any row is read: a declared column (required or not) missing from the
/// header, or a header naming a column twice. Columns the rules do not declare are dropped, as sources often
/// add columns; but when one is missing, the error names the undeclared header column nearest to it (edit
/// distance), which is usually the renamed one.
enum HeaderMatch {
    static func positions(header: [String], columns: [CleaningRules.ColumnRule], file: String) throws(TransformError) -> [Int] {
        let normalized = header.map { ColumnCleaner.trimmed($0).lowercased() }
        var seen: Set<String> = []
        for name in normalized where !name.isEmpty {
            guard seen.insert(name).inserted else {
                throw TransformError("\(file):1: the header names column '\(name)' twice (header: \(header.joined(separator: ", ")))")
            }
        }
        let declared = Set(columns.map { $0.source.lowercased() })
        let undeclared = normalized.filter { !$0.isEmpty && !declared.contains($0) }
        var positions: [Int] = []
        for rule in columns {
            let source = rule.source.lowercased()
            if let position = normalized.firstIndex(of: source) {
                positions.append(position)
                continue
            }
            var message = "\(file):1: the header has no column '\(rule.source)'"
            if let nearest = undeclared.min(by: { editDistance($0, source) < editDistance($1, source) }) {
                message += "; '\(nearest)', which the rules do not declare, is the nearest to it (renamed?)"
            }
            throw TransformError(message + " (header: \(header.joined(separator: ", ")); declared: \(columns.map(\.source).joined(separator: ", ")))")
        }
        return positions
    }

    /// Levenshtein distance over Unicode scalars.
    static func editDistance(_ a: String, _ b: String) -> Int {
        let left = Array(a.unicodeScalars), right = Array(b.unicodeScalars)
        guard !left.isEmpty else { return right.count }
        guard !right.isEmpty else { return left.count }
        var previous = Array(0...right.count)
        var current = [Int](repeating: 0, count: right.count + 1)
        for i in 1...left.count {
            current[0] = i
            for j in 1...right.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (left[i - 1] == right[j - 1] ? 0 : 1))
            }
            swap(&previous, &current)
        }
        return previous[right.count]
    }
}
