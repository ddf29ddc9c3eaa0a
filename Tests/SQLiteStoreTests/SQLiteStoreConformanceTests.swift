import Foundation
import MetadataStore
import SQLiteAttemptStore
import SQLiteStore
import WorkerCore
import XCTest

/// The conformance suite on SQLite files, one per test.
final class SQLiteStoreConformanceTests: StoreConformanceTests {
    private var directory: URL?
    private var path: String {
        get throws { try XCTUnwrap(directory).appendingPathComponent("home/store.sqlite").path }
    }

    override func setUpWithError() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("store-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        directory = folder
    }

    override func tearDownWithError() throws {
        if let directory { try? FileManager.default.removeItem(at: directory) }
    }

    override func makeStore() throws -> any MetadataStore { try SQLiteMetadataStore(path: path) }
    override func openAgain() throws -> any MetadataStore { try SQLiteMetadataStore(path: path) }
    override func makeAttemptStore() throws -> any AttemptStore { try SQLiteAttemptStore(path: path) }

    func testTheStoreNamesItsFile() throws {
        XCTAssertEqual(try makeStore().location, "sqlite://" + (try path))
    }
}
