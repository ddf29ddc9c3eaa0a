import Foundation
import SecretMasking
import Workflow

/// HTML building with escaping by default: every value shown goes through `escape`, so a task log or a DAG
/// description containing `<script>` is shown as text.
enum HTML {
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "&": out += "&amp;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(character)
            }
        }
        return out
    }

    /// A path segment for links (DAG and run ids contain `:` and `+`).
    static func pathComponent(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(.init(charactersIn: "/?#+&;="))) ?? text
    }

    /// A query-string value inside an attribute.
    static func queryValue(_ text: String) -> String {
        escape(text.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(.init(charactersIn: "/-_.~"))) ?? "")
    }

    /// Passwords in URLs (`scheme://user:secret@host`) masked, for command lines copied from DAG files: the same
    /// masking as the served logs.
    static func maskURLPasswords(_ text: String) -> String {
        var bytes = Array(text.utf8)
        SecretMasker.mask(&bytes, secrets: [])
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The pages' own paths, each id percent-encoded as one segment.
    static func dagPath(_ dagId: String) -> String { "/dags/\(pathComponent(dagId))" }
    static func runPath(_ dagId: String, _ runId: String) -> String { "\(dagPath(dagId))/runs/\(pathComponent(runId))" }
    static func taskPath(_ dagId: String, _ runId: String, _ taskId: String) -> String {
        "\(runPath(dagId, runId))/tasks/\(pathComponent(taskId))"
    }

    /// Foundation on Linux names UTC "GMT"; DAG files say UTC.
    static func zoneName(_ zone: TimeZone) -> String { zone.identifier == "GMT" ? "UTC" : zone.identifier }

    static func time(_ date: Date?) -> String { escape(timeText(date)) }
    static func timeText(_ date: Date?) -> String { date.map(DateParsing.isoUTC) ?? "—" }
    static func day(_ date: Date) -> String { String(DateParsing.isoUTC(date).prefix(10)) }

    static func duration(_ seconds: Double?) -> String {
        guard let seconds else { return "—" }
        if seconds < 60 { return String(format: "%.2fs", seconds) }
        let whole = Int(seconds.rounded())
        return whole < 3600 ? "\(whole / 60)m \(String(format: "%02d", whole % 60))s" : "\(whole / 3600)h \(String(format: "%02d", whole / 60 % 60))m"
    }

    static func exit(_ code: Int32?, _ signal: Int32?) -> String {
        signal.map { "signal \($0)" } ?? code.map(String.init) ?? "—"
    }

    static func row(_ name: String, _ value: String) -> String { "<tr><th>\(escape(name))</th><td>\(escape(value))</td></tr>" }

    /// A POST form carrying the session's CSRF token; `fields` go as hidden inputs.
    static func form(_ action: String, csrf: String, fields: [String: String], button: String, inline: Bool = false,
                     input: (name: String, placeholder: String)? = nil, checkbox: (name: String, label: String)? = nil) -> String {
        var html = "<form method=\"post\" action=\"\(action)\"\(inline ? " class=\"inline\"" : "")>"
            + "<input type=\"hidden\" name=\"csrf\" value=\"\(escape(csrf))\">"
        for (name, value) in fields.sorted(by: { $0.key < $1.key }) {
            html += "<input type=\"hidden\" name=\"\(escape(name))\" value=\"\(escape(value))\">"
        }
        if let input { html += "<input name=\"\(escape(input.name))\" placeholder=\"\(escape(input.placeholder))\"> " }
        if let checkbox { html += "<label><input type=\"checkbox\" name=\"\(escape(checkbox.name))\" value=\"1\"> \(escape(checkbox.label))</label> " }
        return html + "<button>\(escape(button))</button></form>"
    }

    static func page(title: String, refresh: Bool, body: String, session: String = "") -> String {
        """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8">
        <title>\(escape(title)) · orchestrator</title>
        \(refresh ? "<meta http-equiv=\"refresh\" content=\"5\">" : "")
        <style>
        body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #222; }
        a { color: #0b5cad; text-decoration: none; } a:hover { text-decoration: underline; }
        table { border-collapse: collapse; margin: 6px 0; } th, td { padding: 3px 8px; text-align: left; border-bottom: 1px solid #eee; }
        .top { display: flex; justify-content: space-between; } .tag { font-size: 60%; background: #eee; padding: 2px 6px; border-radius: 3px; }
        .sq { display: inline-block; width: 12px; height: 12px; margin: 1px; border-radius: 2px; background: #ddd; }
        .success { background: #2e9e44; } .failed { background: #d62d20; } .running { background: #1e90ff; }
        .queued, .scheduled { background: #9aa0a6; } .up_for_retry { background: #f5b400; }
        .upstream_failed { background: #f08030; } .skipped { background: #e0c8f0; } .none { background: #eee; }
        span.state { padding: 1px 6px; border-radius: 3px; color: #fff; font-size: 80%; } span.state.none, span.state.skipped { color: #333; }
        svg .success { fill: #2e9e44; } svg .failed { fill: #d62d20; } svg .running { fill: #1e90ff; }
        svg .queued, svg .scheduled { fill: #9aa0a6; } svg .up_for_retry { fill: #f5b400; } svg .upstream_failed { fill: #f08030; }
        svg .skipped { fill: #e0c8f0; } svg .none { fill: #f4f4f4; } svg rect { stroke: #666; } svg text { font: 12px system-ui, sans-serif; }
        svg path { fill: none; stroke: #999; stroke-width: 1.2; }
        .banner { background: #fdecea; border: 1px solid #d62d20; padding: 6px 10px; margin: 6px 0; white-space: pre-wrap; }
        td.cell { padding: 1px; } td.cell a { display: block; width: 16px; height: 16px; }
        th.run { padding: 1px; text-align: center; font-weight: normal; } th.run small { display: block; writing-mode: vertical-rl; font-size: 10px; color: #666; }
        .actions form, form.inline { display: inline-block; margin-right: 10px; } .actions { margin: 8px 0; }
        .backfill { margin: 4px 0; } .bar { display: inline-block; width: 120px; height: 8px; background: #eee; vertical-align: middle; }
        .bar span { display: block; height: 8px; background: #2e9e44; }
        pre.log { background: #f7f7f7; padding: 8px; overflow-x: auto; max-height: 60em; } tr.selected { background: #eef5ff; }
        .outcome-fail { color: #d62d20; } .outcome-warn { color: #b07d00; }
        </style></head><body>
        <div class="top"><a href="/">orchestrator</a><span>\(session)</span></div>
        \(body)
        </body></html>
        """
    }
}

extension TaskAction {
    /// One line for the task page: the command as written, the transform and its options, or the sensor.
    var summary: String {
        switch self {
        case .command(let text): return HTML.maskURLPasswords(text)
        case .transform(let name, let with): return "transform \(name) with \(HTML.maskURLPasswords(with.jsonText))"
        case .sensor(let sensor): return "sensor \(sensor.kind) \(HTML.maskURLPasswords(sensor.options.jsonText)) every \(sensor.pokeInterval)s, timeout \(sensor.timeout)s"
        }
    }
}
