import Foundation

/// How a model is built in the target, as dbt names it.
public enum Materialization: String, Sendable, CaseIterable {
    /// `CREATE VIEW`: nothing stored, always current.
    case view
    /// Rebuilt whole each run, in one transaction.
    case table
    /// The run's data interval replaces its own rows only (by `partition_by`), in one transaction.
    case incremental
    /// Never built: inlined as a CTE into the models that ref it.
    case ephemeral
}

/// One model file of a project: `<project>/<folder>/<name>.sql` (or its `<name>.<engine>.sql` variant).
public struct ModelDefinition: Sendable {
    public let name: String
    /// `staging`, `intermediate` or `marts`.
    public let folder: String
    public let file: String
    /// The SQL with its `{{ config(…) }}` removed, still templated (compiled per engine and materialization).
    let template: String
    public let materialized: Materialization
    public let partitionBy: String?
    public let tags: [String]
    /// Models and seeds named by `ref(…)`.
    public let references: [String]
    let sources: [SQLTemplate.SourceReference]
    /// Lines of the file before `template` begins, to turn an engine's line number into the file's.
    let leadingLines: Int

    public var sourceNames: [String] { sources.map { "\($0.source).\($0.table)" } }
}

/// A CSV file shipped in `<project>/seeds/`, loaded as table `<name>`.
struct SeedDefinition: Sendable {
    let name: String
    let file: String
    /// Declared column types (`integer`, `real`, `bool`, `text`, `date`, `timestamp`); the others are inferred.
    let columnTypes: [String: String]
}

/// A data test: schema tests from `schema.yml` and singular tests from `tests/*.sql`, each a query returning its
/// failing rows.
struct ModelTest: Sendable {
    let name: String
    /// The model a schema test is attached to (nil for a singular test).
    let model: String?
    /// Templated SQL returning the failing rows.
    let template: String
    let warnOnly: Bool
    /// Where it was declared, for messages.
    let origin: String
    /// Models and seeds it reads (its refs).
    var references: [String] = []
}
