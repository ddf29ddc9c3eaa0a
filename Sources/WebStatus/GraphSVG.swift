import Foundation
import Workflow

/// A graph drawn by the daemon as inline SVG: nodes in columns by depth (longest path from a root), edges as
/// curves from upstream to downstream, each box coloured by a state. The DAG's tasks (coloured by the latest
/// run) and a models project's lineage (`LineageSection`) both use it.
enum GraphSVG {
    static let boxWidth = 150.0, boxHeight = 28.0, columnGap = 50.0, rowGap = 14.0, margin = 4.0

    struct Node {
        let id: String
        let upstream: [String]
        let state: String
        /// The hover text; the id and state when nil.
        var title: String? = nil
        /// Shown in the box after the id (a row count), when it fits.
        var detail: String? = nil
    }

    static func render(_ dag: DAG, states: [String: String]) -> String {
        render(dag.tasks.map { Node(id: $0.id, upstream: $0.dependsOn, state: states[$0.id] ?? "none") }, kind: "task")
    }

    /// `kind` names the nodes in the markup (`data-task`, `data-model`) and the picture's label.
    static func render(_ nodes: [Node], kind: String) -> String {
        var depth: [String: Int] = [:]
        // Nodes usually come topologically ordered; repeat until stable in case they are not (bounded: a cycle
        // cannot reach the pages, but the loop must end anyway).
        var changed = true
        var rounds = 0
        while changed && rounds <= nodes.count {
            changed = false
            rounds += 1
            for node in nodes {
                let value = (node.upstream.compactMap { depth[$0] }.max() ?? -1) + 1
                if depth[node.id] != value { depth[node.id] = value; changed = true }
            }
        }
        var columns: [[String]] = []
        for node in nodes {
            let column = depth[node.id] ?? 0
            while columns.count <= column { columns.append([]) }
            columns[column].append(node.id)
        }
        var position: [String: (x: Double, y: Double)] = [:]
        for (column, ids) in columns.enumerated() {
            for (row, id) in ids.enumerated() {
                position[id] = (margin + Double(column) * (boxWidth + columnGap), margin + Double(row) * (boxHeight + rowGap))
            }
        }
        let width = margin * 2 + Double(max(1, columns.count)) * (boxWidth + columnGap) - columnGap
        let height = margin * 2 + Double(max(1, columns.map(\.count).max() ?? 1)) * (boxHeight + rowGap) - rowGap
        var svg = "<svg class=\"graph\" xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" role=\"img\" aria-label=\"\(kind) graph\">"
        for node in nodes {
            guard let to = position[node.id] else { continue }
            for upstream in node.upstream {
                guard let from = position[upstream] else { continue }
                let x1 = from.x + boxWidth, y1 = from.y + boxHeight / 2, x2 = to.x, y2 = to.y + boxHeight / 2
                let middle = (x1 + x2) / 2
                svg += "<path d=\"M\(fmt(x1)) \(fmt(y1)) C\(fmt(middle)) \(fmt(y1)) \(fmt(middle)) \(fmt(y2)) \(fmt(x2)) \(fmt(y2))\"/>"
            }
        }
        for node in nodes {
            guard let at = position[node.id] else { continue }
            let state = node.state
            var label = node.id
            if let detail = node.detail, label.count + detail.count < 21 { label += " " + detail }
            if label.count > 20 { label = String(label.prefix(19)) + "…" }
            let textClass = ["success", "failed", "running", "upstream_failed"].contains(state) ? " style=\"fill:#fff\"" : ""
            svg += "<g class=\"node\" data-\(kind)=\"\(HTML.escape(node.id))\" data-state=\"\(HTML.escape(state))\"><title>\(HTML.escape(node.title ?? "\(node.id): \(state)"))</title>"
                + "<rect class=\"\(HTML.escape(state))\" x=\"\(fmt(at.x))\" y=\"\(fmt(at.y))\" width=\"\(fmt(boxWidth))\" height=\"\(fmt(boxHeight))\" rx=\"4\"/>"
                + "<text x=\"\(fmt(at.x + 8))\" y=\"\(fmt(at.y + boxHeight / 2 + 4))\"\(textClass)>\(HTML.escape(label))</text></g>"
        }
        return svg + "</svg>"
    }

    static func fmt(_ value: Double) -> String { String(format: "%.1f", value) }
}
