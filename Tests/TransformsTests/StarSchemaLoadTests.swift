import Foundation
import SQLiteDirect
@testable import Transforms
import XCTest

/// json.tables, sql.migrate and the upsert / replace_partition load modes on a SQLite warehouse, from bronze JSON lines
/// written here: the latest row wins, bridges keep one row per key and are replaced per movie, the fact partition is
/// replaced, and a changed or out-of-order migration is refused.
final class StarSchemaLoadTests: XCTestCase {
    func context(_ folder: TemporaryDirectory, ds: String) -> TransformContext {
        let start = Date(timeIntervalSince1970: 1_709_251_200)
        return TransformContext(
            dagId: "d", taskId: "t", runId: "r", ds: ds, dataIntervalStart: start, dataIntervalEnd: start.addingTimeInterval(86_400),
            folder: folder.path, home: folder.path, lake: LocalLake(root: folder.file("lake")),
            warehouse: "sqlite://\(folder.file("warehouse.db"))", workDatabase: folder.file("work.db"),
            connections: Connections(environment: [:]), log: TransformLog())
    }

    func bronze(_ folder: TemporaryDirectory, table: String, ds: String, _ lines: [String]) throws {
        let path = "lake/bronze/api/\(table)/ds=\(ds)"
        try FileManager.default.createDirectory(atPath: folder.file(path), withIntermediateDirectories: true)
        try folder.write("\(path)/records.jsonl", lines.joined(separator: "\n") + "\n")
    }

    static let spec = """
        tables:
          movie:
            from: api/details
            key: [movie_id]
            columns:
              movie_id: { path: id, type: int, required: true }
              title: { path: title, required: true }
              released: { path: release_date, type: date }
              region: { path: country, lookup: { file: regions.csv, key: code, value: region } }
          movie_genre:
            from: api/details
            each: genres
            key: [movie_id, genre_id]
            allow_empty: true
            columns:
              movie_id: { path: $.id, type: int, required: true }
              genre_id: { path: id, type: int, required: true }
          fact:
            from: api/details
            key: [date_id, movie_id]
            columns:
              date_id: { ds: date_id }
              weekday: { ds: iso_weekday }
              movie_id: { path: id, type: int, required: true }
              score: { path: score, type: real }
        """

    static let schema = """
        CREATE TABLE movie (movie_id bigint PRIMARY KEY, title text NOT NULL, released date, region text);
        CREATE TABLE movie_genre (movie_id bigint NOT NULL, genre_id bigint NOT NULL, PRIMARY KEY (movie_id, genre_id));
        CREATE TABLE fact (date_id integer NOT NULL, weekday integer, movie_id bigint NOT NULL, score double precision, PRIMARY KEY (date_id, movie_id));
        """

    static let load = #"""
        {"tables": [{"name": "movie", "mode": "upsert", "key": ["movie_id"]},
                    {"name": "movie_genre", "mode": "upsert", "key": ["movie_id", "genre_id"], "on_conflict": "nothing", "replace_by": "movie_id"},
                    {"name": "fact", "mode": "replace_partition", "partition": "date_id"}]}
        """#

    func runDay(_ folder: TemporaryDirectory, _ ds: String, _ lines: [String]) throws {
        let context = context(folder, ds: ds)
        try bronze(folder, table: "details", ds: ds, lines)
        try SQLMigrate.run(try TransformOptions(operation: "sql.migrate", json: #"{"migrations": "migrations"}"#), context)
        try JSONTables.run(try TransformOptions(operation: "json.tables", json: #"{"spec": "tables.yaml"}"#), context)
        try LoadWarehouse.run(try TransformOptions(operation: "load.warehouse", json: Self.load), context)
    }

    func rows(_ folder: TemporaryDirectory, _ sql: String) throws -> [[String?]] {
        let db = try SQLiteDatabase(path: folder.file("warehouse.db"))
        return try db.prepare(sql).allRows()
    }

    func prepare() throws -> TemporaryDirectory {
        let folder = try TemporaryDirectory()
        try folder.write("tables.yaml", Self.spec)
        try folder.write("regions.csv", "code,region\nFR,Europe\nJP,Asia\n")
        try FileManager.default.createDirectory(atPath: folder.file("migrations"), withIntermediateDirectories: true)
        try folder.write("migrations/001_schema.sql", Self.schema)
        return folder
    }

    func testUpsertsKeepTheLatestRowsReplaceBridgesPerMovieAndTheDaysFacts() throws {
        let folder = try prepare()
        try runDay(folder, "2024-03-01", [
            #"{"id": 1, "title": "Old", "release_date": "2001-02-03", "country": "FR", "genres": [{"id": 10}, {"id": 11}], "score": 1.5}"#,
            #"{"id": 2, "title": "Two", "release_date": "", "country": "XK", "genres": [], "score": 2}"#,
            // The same movie twice in a day (two pages): one row, the last one.
            #"{"id": 2, "title": "Two", "release_date": null, "country": "XK", "genres": [{"id": 10}, {"id": 10}], "score": 2.5}"#,
        ])
        XCTAssertEqual(try rows(folder, "SELECT movie_id, title, released, region FROM movie ORDER BY movie_id"),
                       [["1", "Old", "2001-02-03", "Europe"], ["2", "Two", nil, nil]])
        XCTAssertEqual(try rows(folder, "SELECT movie_id, genre_id FROM movie_genre ORDER BY 1, 2"), [["1", "10"], ["1", "11"], ["2", "10"]])
        // 2024-03-01 was a Friday (ISO 5).
        XCTAssertEqual(try rows(folder, "SELECT date_id, weekday, movie_id, score FROM fact ORDER BY movie_id"),
                       [["20240301", "5", "1", "1.5"], ["20240301", "5", "2", "2.5"]])

        // The next day: movie 1's details changed (title, genres); movie 2 is gone from the source.
        try runDay(folder, "2024-03-02", [#"{"id": 1, "title": "New", "release_date": "2001-02-03", "country": "JP", "genres": [{"id": 12}], "score": 3}"#])
        XCTAssertEqual(try rows(folder, "SELECT movie_id, title, region FROM movie ORDER BY movie_id"), [["1", "New", "Asia"], ["2", "Two", nil]])
        XCTAssertEqual(try rows(folder, "SELECT movie_id, genre_id FROM movie_genre ORDER BY 1, 2"), [["1", "12"], ["2", "10"]])
        XCTAssertEqual(try rows(folder, "SELECT date_id, movie_id FROM fact ORDER BY 1, 2"),
                       [["20240301", "1"], ["20240301", "2"], ["20240302", "1"]])

        // Re-running the first day with fewer rows replaces that day's facts only.
        try runDay(folder, "2024-03-01", [#"{"id": 1, "title": "New", "release_date": "2001-02-03", "country": "JP", "genres": [{"id": 12}], "score": 9}"#])
        XCTAssertEqual(try rows(folder, "SELECT date_id, movie_id, score FROM fact ORDER BY 1, 2"),
                       [["20240301", "1", "9.0"], ["20240302", "1", "3.0"]])
        XCTAssertEqual(try rows(folder, "SELECT version, file FROM schema_migrations"), [["1", "001_schema.sql"]])
    }

    func testBadInputNamesTheFileLineAndField() throws {
        let folder = try prepare()
        XCTAssertThrowsError(try runDay(folder, "2024-03-01", [#"{"id": 1, "title": "A"}"#, #"{"id": "x1", "title": "B"}"#])) { error in
            XCTAssertTrue("\(error)".hasSuffix("records.jsonl:2: id: 'x1' is not a whole number"), "\(error)")
        }
        XCTAssertThrowsError(try runDay(folder, "2024-03-01", [#"{"id": 1}"#])) { error in
            XCTAssertTrue("\(error)".hasSuffix("records.jsonl:1: title: missing, and column title is required"), "\(error)")
        }
        XCTAssertThrowsError(try runDay(folder, "2024-03-01", [#"{"id": 1, "title": "A", "genres": [{"name": "x"}]}"#])) { error in
            XCTAssertTrue("\(error)".hasSuffix("records.jsonl:1: genres[0].id: missing, and column genre_id is required"), "\(error)")
        }
        XCTAssertThrowsError(try runDay(folder, "2024-03-01", [#"{"id": 1, "title": "A", "release_date": "03/02/2001"}"#])) { error in
            XCTAssertTrue("\(error)".hasSuffix("records.jsonl:1: release_date: '03/02/2001' is not a date (YYYY-MM-DD)"), "\(error)")
        }
        // Nothing of the failed days reached the warehouse.
        XCTAssertEqual(try rows(folder, "SELECT COUNT(*) FROM movie"), [["0"]])
    }

    func testAChangedOrLateMigrationIsRefusedAndNothingIsApplied() throws {
        let folder = try prepare()
        let context = context(folder, ds: "2024-03-01")
        let migrate = try TransformOptions(operation: "sql.migrate", json: #"{"migrations": "migrations"}"#)
        try SQLMigrate.run(migrate, context)
        try SQLMigrate.run(migrate, context)  // idempotent
        try folder.write("migrations/003_index.sql", "CREATE INDEX fact_movie ON fact (movie_id);")
        try SQLMigrate.run(migrate, context)
        try folder.write("migrations/002_late.sql", "CREATE TABLE late (x integer);")
        XCTAssertThrowsError(try SQLMigrate.run(migrate, context)) { error in
            XCTAssertTrue("\(error)".contains("002_late.sql is older than migration 3, which is applied already"), "\(error)")
        }
        try FileManager.default.removeItem(atPath: folder.file("migrations/002_late.sql"))
        try folder.write("migrations/001_schema.sql", Self.schema + "\nCREATE TABLE extra (x integer);")
        try folder.write("migrations/004_more.sql", "CREATE TABLE more (x integer);")
        XCTAssertThrowsError(try SQLMigrate.run(migrate, context)) { error in
            XCTAssertTrue("\(error)".contains("001_schema.sql was applied with SHA-256") && "\(error)".contains("has changed since"), "\(error)")
        }
        XCTAssertEqual(try rows(folder, "SELECT name FROM sqlite_master WHERE name IN ('late', 'extra', 'more')"), [])
        XCTAssertEqual(try rows(folder, "SELECT version FROM schema_migrations ORDER BY 1"), [["1"], ["3"]])
    }

    func testUpsertNeedsATableTheMigrationsCreated() throws {
        let folder = try prepare()
        let context = context(folder, ds: "2024-03-01")
        try bronze(folder, table: "details", ds: "2024-03-01", [#"{"id": 1, "title": "A"}"#])
        try JSONTables.run(try TransformOptions(operation: "json.tables", json: #"{"spec": "tables.yaml", "tables": ["movie"]}"#), context)
        XCTAssertThrowsError(try LoadWarehouse.run(try TransformOptions(operation: "load.warehouse",
                                                                        json: #"{"tables": [{"name": "movie", "mode": "upsert", "key": ["movie_id"]}]}"#), context)) { error in
            XCTAssertTrue("\(error)".contains("table movie does not exist in the warehouse; create it with sql.migrate"), "\(error)")
        }
        XCTAssertThrowsError(try LoadWarehouse.run(try TransformOptions(operation: "load.warehouse",
                                                                        json: #"{"tables": [{"name": "movie", "mode": "merge"}]}"#), context)) { error in
            XCTAssertEqual("\(error)", "load.warehouse: tables[0].mode: 'merge' is not upsert, replace_partition or replace")
        }
    }

    func testAModeNamingAColumnTheGoldTableLacksFailsAndDeletesNothing() throws {
        let folder = try prepare()
        let rowsOfTheDay = [#"{"id": 1, "title": "A", "genres": [], "score": 1}"#, #"{"id": 2, "title": "B", "genres": [], "score": 2}"#]
        try runDay(folder, "2024-03-01", rowsOfTheDay)
        // The target has day_id (set on every row), the gold table does not: SQLite would read the subquery's day_id as
        // the target's own and delete every row.
        try folder.write("migrations/002_day.sql", "ALTER TABLE fact ADD COLUMN day_id integer NOT NULL DEFAULT 1;")
        let context = context(folder, ds: "2024-03-02")
        try bronze(folder, table: "details", ds: "2024-03-02", rowsOfTheDay)
        try SQLMigrate.run(try TransformOptions(operation: "sql.migrate", json: #"{"migrations": "migrations"}"#), context)
        try JSONTables.run(try TransformOptions(operation: "json.tables", json: #"{"spec": "tables.yaml"}"#), context)
        let load = #"{"tables": [{"name": "fact", "mode": "replace_partition", "partition": "day_id"}]}"#
        XCTAssertThrowsError(try LoadWarehouse.run(try TransformOptions(operation: "load.warehouse", json: load), context)) { error in
            XCTAssertTrue("\(error)".contains("the mode names column day_id, which the gold table does not have"), "\(error)")
        }
        XCTAssertEqual(try rows(folder, "SELECT date_id, movie_id FROM fact ORDER BY 1, 2"), [["20240301", "1"], ["20240301", "2"]])
    }
}
