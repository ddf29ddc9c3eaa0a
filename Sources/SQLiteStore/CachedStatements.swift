import GRDB

/// Statements prepared once per connection and reused: preparing (and GRDB's authorizer pass over it)
/// cost more than running the scheduler's small queries.
enum Cached {
    static func rows(_ db: Database, sql: String, arguments: StatementArguments = StatementArguments()) throws -> [Row] {
        try Row.fetchAll(db.cachedStatement(sql: sql), arguments: arguments)
    }

    static func row(_ db: Database, sql: String, arguments: StatementArguments = StatementArguments()) throws -> Row? {
        try Row.fetchOne(db.cachedStatement(sql: sql), arguments: arguments)
    }

    static func double(_ db: Database, sql: String, arguments: StatementArguments = StatementArguments()) throws -> Double? {
        try Double.fetchOne(db.cachedStatement(sql: sql), arguments: arguments)
    }

    static func execute(_ db: Database, sql: String, arguments: StatementArguments = StatementArguments()) throws {
        try db.cachedStatement(sql: sql).execute(arguments: arguments)
    }
}
