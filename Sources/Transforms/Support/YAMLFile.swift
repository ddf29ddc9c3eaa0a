import Foundation
import Yams

/// A YAML configuration file (cleaning rules, quality tests) read with line numbers, so every error names
/// the file, the line and the field: `rules.yaml:12: tables.clients.columns[2].type: 'integer' is not a type`.
struct YAMLFile {
    let path: String
    let root: Node

    init(path: String) throws(TransformError) {
        self.path = path
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw TransformError("cannot read \(path)")
        }
        do {
            guard let node = try Yams.compose(yaml: text) else { throw TransformError("\(path): the file is empty") }
            root = node
        } catch let error as TransformError {
            throw error
        } catch let error as YamlError {
            throw TransformError("\(path): not valid YAML: \(Self.describe(error))")
        } catch {
            throw TransformError("\(path): not valid YAML")
        }
    }

    static func describe(_ error: YamlError) -> String {
        switch error {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _):
            return "line \(mark.line): \(problem)\(context.map { " \($0.text)" } ?? "")"
        default:
            return "\(error)".split(separator: "\n").first.map(String.init) ?? "syntax error"
        }
    }

    func fail(_ node: Node, _ field: String, _ message: String) -> TransformError {
        TransformError("\(path):\(node.mark?.line ?? 0): \(field): \(message)")
    }

    func map(_ node: Node, _ field: String, allowed: [String]? = nil) throws(TransformError) -> [(key: String, node: Node)] {
        guard case .mapping(let mapping) = node else { throw fail(node, field, "must be a map") }
        var entries: [(key: String, node: Node)] = []
        for (keyNode, value) in mapping {
            guard let key = keyNode.string else { throw fail(keyNode, field, "keys must be text") }
            if let allowed, !allowed.contains(key) {
                throw fail(keyNode, "\(field).\(key)", "unknown field (fields: \(allowed.joined(separator: ", ")))")
            }
            entries.append((key, value))
        }
        return entries
    }

    func list(_ node: Node, _ field: String) throws(TransformError) -> [Node] {
        guard case .sequence(let sequence) = node else { throw fail(node, field, "must be a list") }
        return Array(sequence)
    }

    func string(_ node: Node, _ field: String) throws(TransformError) -> String {
        guard case .scalar(let scalar) = node else { throw fail(node, field, "must be a single value") }
        return scalar.string
    }

    func strings(_ node: Node, _ field: String) throws(TransformError) -> [String] {
        if case .scalar(let scalar) = node { return [scalar.string] }
        var values: [String] = []
        for (index, item) in try list(node, field).enumerated() { values.append(try string(item, "\(field)[\(index)]")) }
        return values
    }

    func bool(_ node: Node, _ field: String) throws(TransformError) -> Bool {
        guard let value = node.bool else { throw fail(node, field, "must be true or false") }
        return value
    }

    func number(_ node: Node, _ field: String) throws(TransformError) -> Double {
        guard let text = node.string, let value = Double(text), value.isFinite else { throw fail(node, field, "must be a number") }
        return value
    }

    func int(_ node: Node, _ field: String) throws(TransformError) -> Int {
        guard let text = node.string, let value = Int(text) else { throw fail(node, field, "must be a whole number") }
        return value
    }
}
