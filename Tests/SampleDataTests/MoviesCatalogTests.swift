import SampleData
import XCTest

/// The TMDb stand-in's catalog: ids map back to their movie and nothing else, a page past the end is empty, and
/// every third page repeats the previous page's last movie.
final class MoviesCatalogTests: XCTestCase {
    func testIdsMapBackAndUnknownIdsAreNone() {
        let catalog = MoviesCatalog(movies: 130)
        for index in 0..<catalog.count { XCTAssertEqual(catalog.index(ofId: catalog.id(index)), index) }
        for id in [Int.min, -1, 0, 99, 100 + 37 * 130, 9_999_999, Int.max] { XCTAssertNil(catalog.index(ofId: id), "\(id)") }
        // Between two movies' ids: an index is returned only for the id it has.
        for id in 100..<(100 + 37 * 130) { XCTAssertEqual(catalog.index(ofId: id).map { catalog.id($0) } ?? id, id) }
    }

    func testPagesRepeatAMovieAndEndEmpty() throws {
        let catalog = MoviesCatalog(movies: 50)
        let day = try XCTUnwrap(MoviesCatalog.dayNumber("2024-03-01"))
        let ranking = catalog.ranking(day: day)
        func ids(_ page: Int) -> [Int] {
            (catalog.discoverPage(page, day: day, ranking: ranking)["results"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? Int }
        }
        XCTAssertEqual(catalog.totalPages, 3)
        XCTAssertEqual(ids(2).first, ids(1).last, "page 2 starts with page 1's last movie")
        XCTAssertEqual(ids(3).count, 10)
        XCTAssertEqual(ids(4), [])
        XCTAssertEqual(Set(ids(1) + ids(2) + ids(3)).count, 50)
        XCTAssertNil(MoviesCatalog.dayNumber("2024-02-30"))
    }
}
