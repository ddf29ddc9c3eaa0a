/// One operation of the transform library, named in a DAG as `transform: NAME` and configured by `with:`.
/// Each is idempotent per logical date: running a day again replaces that day's outputs atomically.
public protocol TransformOperation: Sendable {
    static var name: String { get }
    static func run(_ options: TransformOptions, _ context: TransformContext) throws(TransformError)
}

public enum TransformRegistry {
    public static let operations: [any TransformOperation.Type] = [
        ExtractFiles.self, ExtractPostgres.self, ExtractHTTP.self, SilverClean.self, GoldSQL.self, QualityCheck.self, LoadWarehouse.self, ModelsRun.self,
        LoadPostgres.self, JSONTables.self, SQLMigrate.self,
    ]

    public static func operation(named name: String) throws(TransformError) -> any TransformOperation.Type {
        guard let operation = operations.first(where: { $0.name == name }) else {
            throw TransformError("unknown transform operation '\(name)' (known: \(operations.map { $0.name }.joined(separator: ", ")))")
        }
        return operation
    }
}
