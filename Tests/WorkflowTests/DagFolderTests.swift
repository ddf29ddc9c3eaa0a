import Foundation
import XCTest
@testable import Workflow

final class DagFolderTests: XCTestCase {

    private var folder = ""

    override func setUpWithError() throws {
        folder = (NSTemporaryDirectory() as NSString).appendingPathComponent("dagfolder-\(UUID().uuidString)")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: folder)
    }

    private func path(_ name: String) -> String { (folder as NSString).appendingPathComponent(name) }

    private func write(_ name: String, _ text: String) throws {
        try text.write(toFile: path(name), atomically: true, encoding: .utf8)
    }

    private func dagText(_ id: String, command: String = "ls") -> String {
        """
        dag_id: \(id)
        schedule: "@daily"
        start_date: 2024-01-01
        tasks:
          - id: a
            command: \(command)
        """
    }

    func testOneBrokenFileDoesNotStopTheOthers() throws {
        try write("a_first.yaml", dagText("first"))
        try write("b_broken.yaml", """
            dag_id: broken
            schedule: "@daily"
            start_date: 2024-01-01
            tasks:
              - id: a
                command: ls
                trigger_rule: whenever
            """)
        try write("c_garbage.yml", "dag_id: [unclosed\n")
        try write("d_last.yml", dagText("last"))

        let loaded = DagFolder.load(path: folder)
        XCTAssertEqual(loaded.path, folder)
        XCTAssertEqual(loaded.sortedDags.map(\.dagId), ["first", "last"])
        XCTAssertEqual(loaded.dags["last"]?.filePath, path("d_last.yml"))
        XCTAssertEqual(Set(loaded.errors.keys), [path("b_broken.yaml"), path("c_garbage.yml")])

        let broken = try XCTUnwrap(loaded.errors[path("b_broken.yaml")])
        XCTAssertEqual(broken.file, path("b_broken.yaml"))
        XCTAssertEqual(broken.issues.map(\.line), [7])
        XCTAssertEqual(broken.issues.map(\.field), ["tasks[0].trigger_rule"])
        XCTAssertTrue(broken.description.hasPrefix("\(path("b_broken.yaml")):7: tasks[0].trigger_rule: 'whenever' is not a trigger rule"),
                      broken.description)

        let garbage = try XCTUnwrap(loaded.errors[path("c_garbage.yml")])
        XCTAssertEqual(garbage.issues.count, 1)
        XCTAssertTrue(garbage.issues.first?.message.hasPrefix("not valid YAML: ") ?? false, garbage.description)
        XCTAssertTrue(garbage.description.hasPrefix("\(path("c_garbage.yml")):"), garbage.description)
    }

    func testDuplicateDagIdAcrossFilesIsReported() throws {
        try write("a.yaml", dagText("shared", command: "echo from-a"))
        try write("b.yaml", dagText("shared", command: "echo from-b"))
        try write("c.yaml", dagText("other"))

        let loaded = DagFolder.load(path: folder)
        // Files load in name order: the first definition wins, the later one is an error.
        XCTAssertEqual(loaded.sortedDags.map(\.dagId), ["other", "shared"])
        XCTAssertEqual(loaded.dags["shared"]?.filePath, path("a.yaml"))
        XCTAssertEqual(loaded.dags["shared"]?.tasks.first?.action, .command("echo from-a"))
        XCTAssertEqual(Array(loaded.errors.keys), [path("b.yaml")])
        let error = try XCTUnwrap(loaded.errors[path("b.yaml")])
        XCTAssertEqual(error.issues, [DagIssue(line: nil, field: "dag_id", message: "'shared' is already defined in \(path("a.yaml"))")])
        XCTAssertEqual(error.description, "\(path("b.yaml")): dag_id: 'shared' is already defined in \(path("a.yaml"))")
    }

    func testOnlyVisibleYamlFilesDirectlyInsideAreLoaded() throws {
        try write("z.yaml", dagText("zed"))
        try write("m.yml", dagText("em"))
        try write(".hidden.yaml", dagText("hidden"))
        try write("notes.txt", "not a dag")
        try write("backup.yaml.bak", dagText("backup"))
        try FileManager.default.createDirectory(atPath: path("sub"), withIntermediateDirectories: true)
        try write("sub/nested.yaml", dagText("nested"))

        XCTAssertEqual(DagFolder.dagFiles(in: folder), [path("m.yml"), path("z.yaml")])
        let loaded = DagFolder.load(path: folder)
        XCTAssertEqual(loaded.sortedDags.map(\.dagId), ["em", "zed"])
        XCTAssertTrue(loaded.errors.isEmpty)
    }

    func testMissingOrEmptyFolderLoadsNothing() throws {
        let empty = DagFolder.load(path: folder)
        XCTAssertTrue(empty.dags.isEmpty)
        XCTAssertTrue(empty.errors.isEmpty)
        let missing = DagFolder.load(path: path("does-not-exist"))
        XCTAssertTrue(missing.dags.isEmpty)
        XCTAssertTrue(missing.errors.isEmpty)
        XCTAssertEqual(DagFolder.fingerprint(path: path("does-not-exist")), "")
    }

    func testFingerprintChangesWhenAFileChanges() throws {
        try write("a.yaml", dagText("first"))
        let before = DagFolder.fingerprint(path: folder)
        XCTAssertTrue(before.hasPrefix(path("a.yaml") + ":"), before)
        XCTAssertEqual(DagFolder.fingerprint(path: folder), before)

        try write("a.yaml", dagText("first", command: "echo a longer command"))
        let changed = DagFolder.fingerprint(path: folder)
        XCTAssertNotEqual(changed, before)

        try write("b.yaml", dagText("second"))
        let added = DagFolder.fingerprint(path: folder)
        XCTAssertNotEqual(added, changed)
        XCTAssertEqual(added.split(separator: "|").count, 2)

        try FileManager.default.removeItem(atPath: path("b.yaml"))
        XCTAssertEqual(DagFolder.fingerprint(path: folder), changed)
    }
}
