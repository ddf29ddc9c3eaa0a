import Foundation

/// The models' dependency graph: `ref()`s are its edges. Ordering puts a model after every model it refs (seeds
/// are leaves); a cycle is an error naming its members in order.
enum ModelGraph {
    static func order(_ models: [ModelDefinition], seeds: Set<String>) throws(TransformError) -> [ModelDefinition] {
        let byName = Dictionary(models.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        var ordered: [ModelDefinition] = []
        var state: [String: Int] = [:]  // 1 visiting, 2 done
        func visit(_ model: ModelDefinition, path: [String]) throws(TransformError) {
            if state[model.name] == 2 { return }
            if state[model.name] == 1 {
                let cycle = path.drop { $0 != model.name } + [model.name]
                throw TransformError("\(ModelsRun.name): models ref each other in a cycle: \(cycle.joined(separator: " -> "))")
            }
            state[model.name] = 1
            for reference in model.references where !seeds.contains(reference) {
                guard let target = byName[reference] else {
                    throw TransformError("\(model.file): ref('\(reference)') names no model or seed (models: \(models.map(\.name).sorted().joined(separator: ", ")))")
                }
                try visit(target, path: path + [model.name])
            }
            state[model.name] = 2
            ordered.append(model)
        }
        for model in models.sorted(by: { $0.name < $1.name }) { try visit(model, path: []) }
        return ordered
    }

    /// Models that ref each one (direct children).
    static func children(_ models: [ModelDefinition]) -> [String: [String]] {
        var children: [String: [String]] = [:]
        for model in models { for parent in model.references { children[parent, default: []].append(model.name) } }
        return children
    }

    /// The models a selection names, dbt-style, space-separated (their union): `name`, `+name` (with its
    /// ancestors), `name+` (with its descendants), `+name+`, a folder (`staging`, or `path:staging`), `tag:x`.
    /// Empty or nil selects everything.
    static func select(_ selection: String?, in models: [ModelDefinition]) throws(TransformError) -> Set<String> {
        let all = Set(models.map(\.name))
        guard let selection, !selection.trimmingCharacters(in: .whitespaces).isEmpty else { return all }
        let byName = Dictionary(models.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        let children = children(models)
        func closure(_ start: Set<String>, next: (String) -> [String]) -> Set<String> {
            var seen = start
            var queue = Array(start)
            while let name = queue.popLast() {
                for other in next(name) where all.contains(other) && !seen.contains(other) { seen.insert(other); queue.append(other) }
            }
            return seen
        }
        var selected: Set<String> = []
        for token in selection.split(whereSeparator: { $0 == " " || $0 == "," }).map(String.init) {
            var core = Substring(token)
            let ancestors = core.hasPrefix("+"), descendants = core.hasSuffix("+")
            if ancestors { core = core.dropFirst() }
            if descendants { core = core.dropLast() }
            let name = String(core)
            var matched: Set<String>
            if name.hasPrefix("tag:") {
                let tag = String(name.dropFirst(4))
                matched = Set(models.filter { $0.tags.contains(tag) }.map(\.name))
            } else if name.hasPrefix("path:") {
                let path = name.dropFirst(5).trimmingCharacters(in: CharacterSet(charactersIn: "/"))
                matched = Set(models.filter { $0.folder == path || $0.file.hasSuffix("/\(path)") || $0.file.hasSuffix("/\(path).sql") }.map(\.name))
            } else if all.contains(name) {
                matched = [name]
            } else {
                matched = Set(models.filter { $0.folder == name }.map(\.name))
            }
            guard !matched.isEmpty else {
                throw TransformError("\(ModelsRun.name): selector '\(token)' matches no model (models: \(models.map(\.name).joined(separator: ", ")); folders: \(ModelProject.modelFolders.joined(separator: ", ")))")
            }
            if ancestors { matched = closure(matched) { byName[$0]?.references ?? [] } }
            if descendants { matched = closure(matched) { children[$0] ?? [] } }
            selected.formUnion(matched)
        }
        return selected
    }
}
