import Foundation

/// The lineage of a models.run task on the DAG's page: its models (and the sources and seeds they read) as a
/// graph coloured by the last run that built them, and a table of each model's rows and test results. It reads
/// only the attempt's result.json (`models`: name, folder, materialized, depends_on, sources, status, rows,
/// tests), never the transform library.
enum LineageSection {
    /// The page's state classes for a model's status in result.json.
    static func state(_ status: String) -> String {
        switch status {
        case "success": return "success"
        case "error": return "failed"
        case "skipped": return "upstream_failed"
        default: return "none"
        }
    }

    static func render(taskId: String, runId: String, taskLink: String, models: [[String: Any]]) -> String {
        let names = Set(models.compactMap { $0["name"] as? String })
        var nodes: [GraphSVG.Node] = []
        var inputs: [String] = []  // sources and seeds, drawn before the models
        for model in models {
            for parent in (model["depends_on"] as? [String] ?? []) + (model["sources"] as? [String] ?? []) where !names.contains(parent) && !inputs.contains(parent) {
                inputs.append(parent)
            }
        }
        nodes += inputs.map { GraphSVG.Node(id: $0, upstream: [], state: "none", title: $0.contains(".") ? "source \($0)" : "seed \($0)") }
        for model in models {
            guard let name = model["name"] as? String else { continue }
            let status = model["status"] as? String ?? "none"
            let rows = model["rows"] as? Int
            let tests = model["tests"] as? [[String: Any]] ?? []
            let failing = tests.filter { ($0["outcome"] as? String) != "pass" }.compactMap { test -> String? in
                guard let testName = test["name"] as? String else { return nil }
                return "\(testName) \(test["outcome"] as? String ?? ""): \(test["failing_rows"] as? Int ?? 0) rows"
            }
            let title = "\(name) (\(model["materialized"] as? String ?? "")): \(status)" + (rows.map { ", \($0) rows" } ?? "")
                + (tests.isEmpty ? "" : ", \(tests.count) tests") + (failing.isEmpty ? "" : "; " + failing.joined(separator: "; "))
            let upstream = (model["depends_on"] as? [String] ?? []) + (model["sources"] as? [String] ?? [])
            nodes.append(GraphSVG.Node(id: name, upstream: upstream, state: state(status), title: title, detail: rows.map { "(\($0))" }))
        }
        var html = "<h2>Models of <a href=\"\(taskLink)\">\(HTML.escape(taskId))</a></h2><p>as of run \(HTML.escape(runId))</p>"
        html += GraphSVG.render(nodes, kind: "model")
        html += "<table class=\"models\"><tr><th>model</th><th>folder</th><th>materialized</th><th>status</th><th>rows</th><th>tests</th></tr>"
        for model in models {
            guard let name = model["name"] as? String else { continue }
            let status = model["status"] as? String ?? ""
            let tests = model["tests"] as? [[String: Any]] ?? []
            var counts: [String: Int] = [:]
            for test in tests { counts[test["outcome"] as? String ?? "", default: 0] += 1 }
            let summary = ["pass", "warn", "fail"].compactMap { outcome in counts[outcome].map { "\($0) \(outcome)" } }.joined(separator: ", ")
            let notPassing = tests.filter { ($0["outcome"] as? String) != "pass" }.compactMap { $0["name"] as? String }
            html += "<tr data-model=\"\(HTML.escape(name))\"><td>\(HTML.escape(name))</td><td>\(HTML.escape(model["folder"] as? String ?? ""))</td>"
                + "<td>\(HTML.escape(model["materialized"] as? String ?? ""))</td>"
                + "<td><span class=\"state \(state(status))\">\(HTML.escape(status))</span></td>"
                + "<td>\((model["rows"] as? Int).map(String.init) ?? "")</td>"
                + "<td>\(HTML.escape(summary))\(notPassing.isEmpty ? "" : ": " + HTML.escape(notPassing.joined(separator: ", ")))</td></tr>"
        }
        return html + "</table>"
    }
}
