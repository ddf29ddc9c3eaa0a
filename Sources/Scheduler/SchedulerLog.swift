import Foundation

/// One line per event in logfmt, to stderr (journald keeps it). Values are quoted when they need it.
public struct SchedulerLog: Sendable {
    public enum Level: String, Sendable { case debug, info, warning, error }
    public var minimumLevel: Level

    public init(minimumLevel: Level = .info) {
        self.minimumLevel = minimumLevel
    }

    public func callAsFunction(_ level: Level, _ message: String, _ fields: [(String, String)] = []) {
        guard Self.rank(level) >= Self.rank(minimumLevel) else { return }
        var line = "time=\(Self.timestamp()) level=\(level.rawValue) msg=\(Self.quote(message))"
        for (key, value) in fields { line += " \(key)=\(Self.quote(value))" }
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
