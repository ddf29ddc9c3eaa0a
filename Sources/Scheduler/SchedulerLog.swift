import Foundation

/// One line per event to stderr (journald keeps it), in logfmt (values quoted when they need it) or JSON.
public struct SchedulerLog: Sendable {
    public enum Level: String, Sendable { case debug, info, warning, error }
    public enum Format: String, Sendable { case logfmt, json }
    public var minimumLevel: Level
    public var format: Format

    public init(minimumLevel: Level = .info, format: Format = .logfmt) {
        self.minimumLevel = minimumLevel
        self.format = format
    }

    public func callAsFunction(_ level: Level, _ message: String, _ fields: [(String, String)] = []) {
        guard Self.rank(level) >= Self.rank(minimumLevel) else { return }
        let line: String
        switch format {
        case .logfmt:
            var text = "time=\(Self.timestamp()) level=\(level.rawValue) msg=\(Self.quote(message))"
            for (key, value) in fields { text += " \(key)=\(Self.quote(value))" }
            line = text
        case .json:
            var object: [String: String] = ["time": Self.timestamp(), "level": level.rawValue, "msg": message]
            for (key, value) in fields where object[key] == nil { object[key] = value }
            let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
            line = String(decoding: data, as: UTF8.self)
        }
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    static func rank(_ level: Level) -> Int {
        switch level {
        case .debug: return 0
        case .info: return 1
        case .warning: return 2
        case .error: return 3
        }
    }

    static func timestamp() -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: Date())
    }

    static func quote(_ value: String) -> String {
        let plain = !value.isEmpty && value.unicodeScalars.allSatisfy { $0.value > 32 && $0 != "\"" && $0 != "=" && $0.value < 127 }
        if plain { return value }
        return "\"" + value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n") + "\""
    }
}
