/// Named pools and their slot counts.
public protocol PoolStore: Sendable {
    func pools() throws -> [String: Int]
    func setPool(name: String, slots: Int) throws
    func deletePool(name: String) throws -> Bool
}
