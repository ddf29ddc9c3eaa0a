import Yams

extension ParseContext {
    /// `connections: [name, …]` (or one name): the named connections the task's process receives. Names follow the
    /// environment's rules, since each becomes `ORCHESTRATOR_CONN_<NAME>`; whether one is configured is known only
    /// to the scheduler, which fails the task with a clear note if not.
    mutating func connectionNames(_ node: Node?, _ field: String) -> [String] {
        guard let node, !Self.isNull(node) else { return [] }
        let items = node.sequence.map(Array.init) ?? [node]
        var names: [String] = []
        for item in items {
            guard let name = string(item, field) else { continue }
            guard Self.isParamName(name) else {
                fail(item, field, "'\(name)' is not a connection name (letters, digits and _, not starting with a digit)")
                continue
            }
            if names.contains(where: { $0.lowercased() == name.lowercased() }) {
                fail(item, field, "connection '\(name)' is named twice")
                continue
            }
            names.append(name)
        }
        return names
    }
}
