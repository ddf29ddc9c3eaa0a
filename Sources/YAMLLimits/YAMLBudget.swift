import CYaml  // Yams' libyaml target: the event stream, read before Yams composes (see `check`)
import Foundation
import Yams

/// Limits on the YAML the project reads (DAG files, the configuration, transform rules and tests): a file size, and a budget on the nodes a
/// document holds once its aliases are expanded. Yams shares an aliased node instead of copying it, but anything
/// that walks the tree (the parser's values, key hashing, JSON) pays for the expansion: a 557-byte "billion laughs"
/// file expanded to gigabytes.
public enum YAMLBudget {
    public static let maxFileBytes = 1 << 20
    /// Nodes (scalars, sequences, mappings) after alias expansion.
    public static let maxExpandedNodes = 100_000  // messages say "100,000"
    /// Nesting depth of sequences and mappings: the tree is walked recursively, on threads with small stacks.
    public static let maxDepth = 100

    /// Why a YAML text was refused, with the line of the node where the limit was reached.
    public struct Exceeded: Error, Sendable, Equatable, CustomStringConvertible {
        public let line: Int?
        public let message: String
        public var description: String { message }
    }

    /// The text of `path` as UTF-8, refusing files over `maxFileBytes` before reading them whole.
    public static func readText(path: String) throws(ReadFailure) -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw .unreadable }
        defer { try? handle.close() }
        let data: Data
        do { data = try handle.read(upToCount: maxFileBytes + 1) ?? Data() } catch { throw .unreadable }
        guard data.count <= maxFileBytes else { throw .tooLarge }
        guard let text = String(data: data, encoding: .utf8) else { throw .notUTF8 }
        return text
    }

    public enum ReadFailure: Error, Sendable, Equatable {
        case unreadable, tooLarge, notUTF8

        public var message: String {
            switch self {
            case .unreadable: return "cannot read the file"
            case .tooLarge: return "the file is larger than 1 MiB"
            case .notUTF8: return "cannot read the file as UTF-8 text"
            }
        }
    }

    /// Composes `text` into nodes once it is known to stay within the budget. Throws `Exceeded`, or Yams' error
    /// for malformed YAML.
    public static func compose(_ text: String) throws -> Node? {
        try check(text)
        return try Yams.compose(yaml: text)
    }

    /// Counts the nodes of `text` as if its aliases were expanded, from libyaml's event stream and before Yams
    /// builds anything: Yams hashes every mapping key while composing, so an alias used as a key (`{ *big: 1 }`)
    /// costs its whole expansion there (a minute of CPU for a 400-byte file). Stops as soon as the budget is spent.
    /// Malformed YAML passes here and is reported by Yams with its own message.
    public static func check(_ text: String) throws(Exceeded) {
        var bytes = Array(text.utf8)
        if bytes.isEmpty { return }
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) == 1 else { return }
        defer { yaml_parser_delete(&parser) }
        var counter = ExpansionCounter()
        try bytes.withUnsafeMutableBufferPointer { (buffer) throws(Exceeded) in
            yaml_parser_set_input_string(&parser, buffer.baseAddress, buffer.count)
            var event = yaml_event_t()
            while yaml_parser_parse(&parser, &event) == 1 {
                defer { yaml_event_delete(&event) }
                let line = Int(event.start_mark.line) + 1
                switch event.type {
                case YAML_STREAM_END_EVENT: return
                case YAML_SCALAR_EVENT: try counter.leaf(anchor: Self.name(event.data.scalar.anchor), line: line)
                case YAML_ALIAS_EVENT: try counter.alias(Self.name(event.data.alias.anchor), line: line)
                case YAML_SEQUENCE_START_EVENT: try counter.open(anchor: Self.name(event.data.sequence_start.anchor), line: line)
                case YAML_MAPPING_START_EVENT: try counter.open(anchor: Self.name(event.data.mapping_start.anchor), line: line)
                case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT: counter.close()
                default: continue
                }
            }
        }
    }

    private static func name(_ pointer: UnsafeMutablePointer<yaml_char_t>?) -> String? {
        pointer.map { String(cString: $0) }
    }

    /// The running count of expanded nodes, and the expanded size of each anchor seen so far.
    private struct ExpansionCounter {
        var expanded = 0
        var anchorSizes: [String: Int] = [:]
        /// Open sequences and mappings: their anchor and the count when they opened.
        var open: [(anchor: String?, countAtStart: Int)] = []

        mutating func add(_ nodes: Int, line: Int) throws(Exceeded) {
            expanded += nodes
            guard expanded <= YAMLBudget.maxExpandedNodes else {
                throw Exceeded(line: line, message: "the YAML expands to more than 100,000 nodes (are aliases (*name) repeating a large anchor?)")
            }
        }

        mutating func leaf(anchor: String?, line: Int) throws(Exceeded) {
            try add(1, line: line)
            if let anchor { anchorSizes[anchor] = 1 }
        }

        /// An unknown anchor is Yams' error to report; it counts as one node here.
        mutating func alias(_ anchor: String?, line: Int) throws(Exceeded) {
            try add(anchor.flatMap { anchorSizes[$0] } ?? 1, line: line)
        }

        mutating func open(anchor: String?, line: Int) throws(Exceeded) {
            guard open.count < YAMLBudget.maxDepth else {
                throw Exceeded(line: line, message: "the YAML nests lists and mappings more than \(YAMLBudget.maxDepth) levels deep")
            }
            open.append((anchor, expanded))
            try add(1, line: line)
        }

        mutating func close() {
            guard let frame = open.popLast() else { return }
            if let anchor = frame.anchor { anchorSizes[anchor] = expanded - frame.countAtStart }
        }
    }
}
