import Foundation

/// One instant (Unix seconds) written the ways real exports write it, without Foundation's formatters.
enum IsoTimestamp {
    enum Style: CaseIterable {
        case zulu            // 2024-05-06T14:03:07Z
        case offsetColon     // 2024-05-06T16:03:07+02:00 (the same instant, local wall time)
        case offsetBasic     // 2024-05-06T09:03:07-0500
        case noOffset        // 2024-05-06T14:03:07 (UTC)
        case space           // 2024-05-06 14:03:07+00:00
        case fraction        // 2024-05-06T14:03:07.250Z
        case dateOnly        // 2024-05-06 (midnight UTC: the time is dropped)
        case dayFirst        // 06/05/2024 (likewise)
        case dayFirstTime    // 06/05/2024 14:03:07 (UTC)

        /// Mostly the plain form, as most rows of an export look alike.
        static let timestampStyles: [Style] = Array(repeating: .zulu, count: 6) + allCases
        static let dateStyles: [Style] = [.dateOnly, .dateOnly, .dateOnly, .zulu, .offsetColon, .dayFirst, .dayFirst, .space]
    }

    /// Offsets (hours) used for the offset forms: some put the local date on another day than the UTC one.
    static let offsets = [2, -5, 9, -3, 1]

    static func render(_ seconds: Int, style: Style) -> String {
        switch style {
        case .zulu: return civil(seconds, separator: "T") + "Z"
        case .offsetColon, .offsetBasic:
            let hours = offsets[seconds.floorDivided(by: 7).nonNegativeRemainder(offsets.count)]  // pre-1970 too
            let sign = hours < 0 ? "-" : "+"
            let zone = style == .offsetColon ? String(format: "%@%02d:00", sign, abs(hours)) : String(format: "%@%02d00", sign, abs(hours))
            return civil(seconds + hours * 3600, separator: "T") + zone
        case .noOffset: return civil(seconds, separator: "T")
        case .space: return civil(seconds, separator: " ") + "+00:00"
        case .fraction: return civil(seconds, separator: "T") + String(format: ".%03dZ", (seconds &* 37).nonNegativeRemainder(1000))
        case .dateOnly: return String(civil(seconds).prefix(10))
        case .dayFirst, .dayFirstTime:
            let text = civil(seconds)
            let day = "\(text.dropFirst(8).prefix(2))/\(text.dropFirst(5).prefix(2))/\(text.prefix(4))"
            return style == .dayFirst ? day : day + " " + text.suffix(8)
        }
    }

    /// `2024-05-06 14:03:07`: the UTC wall time of Unix seconds.
    static func civil(_ seconds: Int, separator: String = " ") -> String {
        var time = time_t(seconds)
        var parts = tm()
        gmtime_r(&time, &parts)
        return String(format: "%04d-%02d-%02d%@%02d:%02d:%02d", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1, Int(parts.tm_mday),
                      separator, Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec))
    }
}

extension Int {
    /// Rounds toward minus infinity, so instants before 1970 land on the day (or slot) that holds them.
    func floorDivided(by divisor: Int) -> Int { (self - nonNegativeRemainder(divisor)) / divisor }
    /// In 0..<divisor even for negative numbers (`%` keeps the sign of the dividend).
    func nonNegativeRemainder(_ divisor: Int) -> Int { ((self % divisor) + divisor) % divisor }
}
