/// A node's name: `ORCHESTRATOR_NODE_NAME` (or `node_name:`), by default the host name. It is written on every
/// attempt the node starts, shown on the pages, put in every task's environment and logged, so it is short and
/// plain: 1 to 63 characters among letters, digits, `.`, `-` and `_`.
public enum NodeName {
    public static let maximumLength = 63

    public static func isValid(_ name: String) -> Bool { problem(name) == nil }

    private static func isAllowed(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar {
        case "a"..."z", "A"..."Z", "0"..."9", ".", "-", "_": return true
        default: return false
        }
    }

    /// Why a name is refused, for one error line; nil when it is fine.
    public static func problem(_ name: String) -> String? {
        if name.isEmpty { return "is empty" }
        if name.utf8.count > maximumLength { return "is longer than \(maximumLength) characters" }
        guard name.unicodeScalars.allSatisfy(isAllowed) else { return "may hold only letters, digits, '.', '-' and '_'" }
        return nil
    }
}
