import Foundation

/// Every DAG file of a folder, loaded independently: one broken file never hides the others.
public struct DagFolder: Sendable {
    public let path: String
    public private(set) var dags: [String: DAG] = [:]
    /// Files that failed to load, by path, with every problem found.
    public private(set) var errors: [String: DagLoadError] = [:]

    public init(path: String) {
        self.path = path
    }

    /// Loads `*.yaml` / `*.yml` directly inside the folder, in file-name order.
    public static func load(path: String) -> DagFolder {
        var folder = DagFolder(path: path)
        for file in dagFiles(in: path) { folder.add(file: file) }
        return folder
    }

    public static func dagFiles(in path: String) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
        return names
            .filter { ($0.hasSuffix(".yaml") || $0.hasSuffix(".yml")) && !$0.hasPrefix(".") }
            .sorted()
            .map { (path as NSString).appendingPathComponent($0) }
    }

    /// A fingerprint of the folder (names, sizes, modification times), to tell whether a reload is due.
    public static func fingerprint(path: String) -> String {
        dagFiles(in: path).map { file in
            let attributes = try? FileManager.default.attributesOfItem(atPath: file)
            let modified = (attributes?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
            let size = (attributes?[.size] as? NSNumber)?.intValue ?? 0
            return "\(file):\(size):\(modified)"
        }.joined(separator: "|")
    }

    mutating func add(file: String) {
        do {
            let dag = try DagParser.parse(file: file)
            if let other = dags[dag.dagId] {
                errors[file] = DagLoadError(file: file, issues: [
                    DagIssue(line: nil, field: "dag_id", message: "'\(dag.dagId)' is already defined in \(other.filePath)"),
                ])
            } else {
                dags[dag.dagId] = dag
            }
        } catch {
            errors[file] = error
        }
    }

    public var sortedDags: [DAG] { dags.values.sorted { $0.dagId < $1.dagId } }
}
