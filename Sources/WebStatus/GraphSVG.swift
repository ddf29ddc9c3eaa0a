import Foundation
import Workflow

/// The DAG's tasks and edges drawn by the daemon as inline SVG: tasks in columns by depth (longest path from
/// a root), edges as curves from upstream to downstream, each box coloured by the task's state in the latest run.
enum GraphSVG {
    static let boxWidth = 150.0, boxHeight = 28.0, columnGap = 50.0, rowGap = 14.0, margin = 4.0

    static func render(_ dag: DAG, states: [String: String]) -> String {
        var depth: [String: Int] = [:]
        // Tasks come topologically ordered; repeat until stable in case a file's order is not.
        var changed = true
        while changed {
            changed = false
            for task in dag.tasks {
                let value = (task.dependsOn.compactMap { depth[$0] }.max() ?? -1) + 1
                if depth[task.id] != value { depth[task.id] = value; changed = true }
            }
        }
        var columns: [[String]] = []
        for task in dag.tasks {
            let column = depth[task.id] ?? 0
            while columns.count <= column { columns.append([]) }
            columns[column].append(task.id)
        }
        var position: [String: (x: Double, y: Double)] = [:]
        for (column, ids) in columns.enumerated() {
            for (row, id) in ids.enumerated() {
                position[id] = (margin + Double(column) * (boxWidth + columnGap), margin + Double(row) * (boxHeight + rowGap))
            }
        }
        let width = margin * 2 + Double(max(1, columns.count)) * (boxWidth + columnGap) - columnGap
        let height = margin * 2 + Double(max(1, columns.map(\.count).max() ?? 1)) * (boxHeight + rowGap) - rowGap
        var svg = "<svg class=\"graph\" xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" role=\"img\" aria-label=\"task graph\">"
        for task in dag.tasks {
            guard let to = position[task.id] else { continue }
            for upstream in task.dependsOn {
                guard let from = position[upstream] else { continue }
                let x1 = from.x + boxWidth, y1 = from.y + boxHeight / 2, x2 = to.x, y2 = to.y + boxHeight / 2
                let middle = (x1 + x2) / 2
                svg += "<path d=\"M\(fmt(x1)) \(fmt(y1)) C\(fmt(middle)) \(fmt(y1)) \(fmt(middle)) \(fmt(y2)) \(fmt(x2)) \(fmt(y2))\"/>"
            }
        }
        for task in dag.tasks {
            guard let at = position[task.id] else { continue }
            let state = states[task.id] ?? "none"
            let label = task.id.count > 20 ? String(task.id.prefix(19)) + "…" : task.id
            let textClass = ["success", "failed", "running", "upstream_failed"].contains(state) ? " style=\"fill:#fff\"" : ""
            svg += "<g class=\"node\" data-task=\"\(HTML.escape(task.id))\" data-state=\"\(state)\"><title>\(HTML.escape(task.id)): \(state)</title>"
                + "<rect class=\"\(state)\" x=\"\(fmt(at.x))\" y=\"\(fmt(at.y))\" width=\"\(fmt(boxWidth))\" height=\"\(fmt(boxHeight))\" rx=\"4\"/>"
                + "<text x=\"\(fmt(at.x + 8))\" y=\"\(fmt(at.y + boxHeight / 2 + 4))\"\(textClass)>\(HTML.escape(label))</text></g>"
        }
        return svg + "</svg>"
    }

    static func fmt(_ value: Double) -> String { String(format: "%.1f", value) }
}
