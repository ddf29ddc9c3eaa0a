import Foundation

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
        text.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(.init(charactersIn: "/?#"))) ?? text
    }

    static func page(title: String, refresh: Bool, body: String) -> String {
        """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8">
        <title>\(escape(title)) · orchestrator</title>
        \(refresh ? "<meta http-equiv=\"refresh\" content=\"5\">" : "")
        <style>
        body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #222; }
        a { color: #0b5cad; text-decoration: none; } a:hover { text-decoration: underline; }
        table { border-collapse: collapse; } th, td { padding: 3px 8px; text-align: left; border-bottom: 1px solid #eee; }
        .sq { display: inline-block; width: 12px; height: 12px; margin: 1px; border-radius: 2px; background: #ddd; }
        .success { background: #2e9e44; } .failed { background: #d62d20; } .running { background: #1e90ff; }
        .queued, .scheduled { background: #9aa0a6; } .up_for_retry { background: #f5b400; }
        .upstream_failed { background: #f08030; } .skipped { background: #e0c8f0; } .none { background: #eee; }
        .banner { background: #fdecea; border: 1px solid #d62d20; padding: 6px 10px; margin: 6px 0; white-space: pre-wrap; }
        td.cell { padding: 1px; } td.cell span { display: block; width: 16px; height: 16px; }
        </style></head><body>
        <p><a href="/">orchestrator</a></p>
        \(body)
        </body></html>
        """
    }
}
