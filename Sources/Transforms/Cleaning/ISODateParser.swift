/// The ISO 8601 forms that `date` and `timestamp` columns read without any `formats:` list:
///
/// - `YYYY-MM-DD` (years 1000–9999), alone or followed by
/// - `T` or one space, then `HH:MM`, `HH:MM:SS` or `HH:MM:SS.fff` (any number of fraction digits after `.` or
///   `,`; they are dropped: truncated, never rounded, so 23:59:59.9 stays on its day), then
/// - no offset (wall time in the column's `timezone:`, UTC by default), `Z`, `±hh:mm`, `±hhmm` or `±hh`
///   (offsets below 24 hours).
///
/// Basic forms without separators (`20240125T0955`), week and ordinal dates are not read: they are rare in
/// CSV files and too easily confused with plain numbers; add a `formats:` entry for such data.
enum ISODateParser {
    /// The fields of `bytes`, or nil when it is not exactly one of the forms above (or not a real date and time).
    static func parse(_ bytes: UnsafeBufferPointer<UInt8>) -> DateFields? {
        let count = bytes.count
        guard count >= 10 else { return nil }
        @inline(__always) func digits(_ start: Int, _ length: Int) -> Int? {
            guard start + length <= count else { return nil }
            var value = 0
            for index in start..<(start + length) {
                let digit = bytes[index] &- 0x30
                guard digit < 10 else { return nil }
                value = value * 10 + Int(digit)
            }
            return value
        }
        guard let year = digits(0, 4), year >= 1000, bytes[4] == 0x2D, let month = digits(5, 2), bytes[7] == 0x2D,
              let day = digits(8, 2) else { return nil }
        var fields = DateFields()
        fields.year = year
        fields.month = month
        fields.day = day
        var index = 10
        if index < count {
            let separator = bytes[index]
            guard separator == 0x54 || separator == 0x20 else { return nil }  // T or space
            guard let hour = digits(index + 1, 2), index + 3 < count, bytes[index + 3] == 0x3A,
                  let minute = digits(index + 4, 2) else { return nil }
            fields.hour = hour
            fields.minute = minute
            index += 6
            if index < count, bytes[index] == 0x3A {
                guard let second = digits(index + 1, 2) else { return nil }
                fields.second = second
                index += 3
                if index < count, bytes[index] == 0x2E || bytes[index] == 0x2C {
                    index += 1
                    let start = index
                    while index < count, bytes[index] &- 0x30 < 10 { index += 1 }
                    guard index > start else { return nil }
                }
            }
            if index < count {
                let sign = bytes[index]
                if sign == 0x5A || sign == 0x7A {  // Z or z
                    fields.offset = 0
                    index += 1
                } else if sign == 0x2B || sign == 0x2D {
                    guard let hours = digits(index + 1, 2), hours < 24 else { return nil }
                    index += 3
                    var minutes = 0
                    if index < count {
                        if bytes[index] == 0x3A { index += 1 }
                        guard let value = digits(index, 2), value < 60 else { return nil }
                        minutes = value
                        index += 2
                    }
                    fields.offset = (hours * 3600 + minutes * 60) * (sign == 0x2D ? -1 : 1)
                } else {
                    return nil
                }
            }
        }
        guard index == count, fields.isValid else { return nil }
        return fields
    }

    static func parse(_ text: String) -> DateFields? {
        var text = text
        return text.withUTF8 { parse($0) }
    }
}
