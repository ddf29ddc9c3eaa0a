import Foundation
import XCTest

/// A temporary home and DAG folder, and the real `orchestrator` binary run against them.
final class Harness {
    let root: URL
    let dags: URL
    let home: URL
    private(set) var daemon: Process?
    private var daemonLog: URL { root.appendingPathComponent("daemon.log") }

    init() throws {
        root = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("orch-e2e-\(UUID().uuidString.prefix(8))")
        dags = root.appendingPathComponent("dags")
        home = root.appendingPathComponent("home")
        try FileManager.default.createDirectory(at: dags, withIntermediateDirectories: true)
    }

    deinit {
        stopDaemon(signal: SIGKILL)
        try? FileManager.default.removeItem(at: root)
    }

    /// The binaries built beside the test bundle (`swift build` puts them in the same folder).
    static var binFolder: URL {
        let testBinary = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var folder = testBinary.deletingLastPathComponent()
        // On Linux the runner is `<bin>/orchestratorPackageTests.xctest`; elsewhere it may be nested deeper.
        while !FileManager.default.isExecutableFile(atPath: folder.appendingPathComponent("orchestrator").path), folder.path != "/" {
            folder = folder.deletingLastPathComponent()
        }
        return folder
    }

    static var orchestrator: String { binFolder.appendingPathComponent("orchestrator").path }

    func writeDag(_ name: String, _ yaml: String) throws {
        try yaml.write(to: dags.appendingPathComponent("\(name).yaml"), atomically: true, encoding: .utf8)
    }

    func path(_ name: String) -> String { root.appendingPathComponent(name).path }

    /// Added to the environment of every command and of the daemon (connections, for instance).
    var extraEnvironment: [String: String] = [:]

    var environment: [String: String] {
        var env = ProcessInfo.processInfo.environment.merging(extraEnvironment) { $1 }
        env["ORCHESTRATOR_HOME"] = home.path
        env["ORCHESTRATOR_DAGS"] = dags.path
        env["WORK"] = root.path
        // Each test daemon serves its status pages on a free port of its own.
        env["ORCHESTRATOR_WEB_ADDRESS"] = env["ORCHESTRATOR_WEB_ADDRESS_FOR_TESTS"] ?? "127.0.0.1:0"
        return env
    }

    struct Result {
        let status: Int32
        let stdout: String
        let stderr: String
    }

    /// Runs `orchestrator ARGS…` to completion.
    @discardableResult
    func run(_ arguments: [String], timeout: TimeInterval = 120) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.orchestrator)
        process.arguments = arguments
        process.environment = environment
        let out = root.appendingPathComponent("out-\(UUID().uuidString)")
        let err = root.appendingPathComponent("err-\(UUID().uuidString)")
        FileManager.default.createFile(atPath: out.path, contents: nil)
        FileManager.default.createFile(atPath: err.path, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: out)
        process.standardError = try FileHandle(forWritingTo: err)
        try process.run()
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        if process.isRunning {
            process.terminate()
            XCTFail("orchestrator \(arguments.joined(separator: " ")) did not finish within \(timeout)s")
        }
        process.waitUntilExit()
        return Result(status: process.terminationStatus,
                      stdout: (try? String(contentsOf: out, encoding: .utf8)) ?? "",
                      stderr: (try? String(contentsOf: err, encoding: .utf8)) ?? "")
    }

    func startDaemon(_ extra: [String] = []) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.orchestrator)
        process.arguments = ["daemon"] + extra
        process.environment = environment
        if !FileManager.default.fileExists(atPath: daemonLog.path) {
            FileManager.default.createFile(atPath: daemonLog.path, contents: nil)
        }
        let readyBefore = readyCount
        let handle = try FileHandle(forWritingTo: daemonLog)
        handle.seekToEndOfFile()
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        daemon = process
        try waitFor("the daemon to be ready", timeout: 30) { self.readyCount > readyBefore }
    }
    /// The status pages' base URL, from the daemon's log.
    var webURL: String? {
        guard let range = daemonLogText.range(of: "url=http://", options: .backwards) else { return nil }
        let rest = daemonLogText[range.upperBound...]
        return "http://" + String(rest.prefix { !$0.isWhitespace && $0 != "\"" })
    }

    private var readyCount: Int { daemonLogText.components(separatedBy: "daemon ready").count - 1 }

    var daemonLogText: String { (try? String(contentsOf: daemonLog, encoding: .utf8)) ?? "" }

    /// Stops the daemon with `signal` and waits for it to exit; returns its exit status.
    @discardableResult
    func stopDaemon(signal: Int32 = SIGTERM, timeout: TimeInterval = 60) -> Int32? {
        guard let daemon, daemon.isRunning else { return nil }
        kill(daemon.processIdentifier, signal)
        let deadline = Date().addingTimeInterval(timeout)
        while daemon.isRunning && Date() < deadline { usleep(20_000) }
        daemon.waitUntilExit()
        self.daemon = nil
        return daemon.terminationStatus
    }

    func waitFor(_ what: String, timeout: TimeInterval = 60, _ condition: () throws -> Bool) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if try condition() { return }
            usleep(50_000)
        }
        XCTFail("timed out after \(Int(timeout))s waiting for \(what)\n--- daemon log ---\n\(daemonLogText.suffix(3000))")
        throw HarnessError.timeout(what)
    }

    enum HarnessError: Error { case timeout(String), badJSON(String) }

    // MARK: Reading state through the CLI's JSON

    func runs(dag: String) throws -> [[String: Any]] {
        let result = try run(["runs", "list", "--dag", dag, "--json", "--limit", "10000"])
        guard let list = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]] else {
            throw HarnessError.badJSON(result.stdout + result.stderr)
        }
        return list
    }

    func tasks(dag: String, date: String) throws -> [String: [String: Any]] {
        let result = try run(["tasks", "list", dag, "--date", date, "--json"])
        guard let list = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]] else {
            throw HarnessError.badJSON(result.stdout + result.stderr)
        }
        return Dictionary(uniqueKeysWithValues: list.compactMap { item in (item["task_id"] as? String).map { ($0, item) } })
    }

    func runStates(dag: String) throws -> [String] { try runs(dag: dag).compactMap { $0["state"] as? String } }

    /// A webhook receiver: appends `{"path", "status", "body"}` to the log for every POST; the first POST to
    /// `/flaky` answers 500 (to exercise retries), every other one 200.
    static let webhookRecorder = #"""
        import http.server, json, sys
        failed = set()
        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args): pass
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode()
                status = 500 if (self.path == "/flaky" and self.path not in failed) else 200
                if status == 500: failed.add(self.path)
                with open(sys.argv[2], "a") as log: log.write(json.dumps({"path": self.path, "status": status, "body": body}) + "\n")
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        with open(sys.argv[1], "w") as f: f.write(str(server.server_address[1]))
        server.serve_forever()
        """#

    /// The recorder's log: each POST as `path`, `status` and `body`.
    func webhookPosts(_ log: String) -> [[String: Any]] {
        lines(log).compactMap { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any] }
    }

    /// The JSON events delivered (status 200) to the recorder.
    func webhookEvents(_ log: String) -> [[String: Any]] {
        webhookPosts(log).filter { $0["status"] as? Int == 200 }.compactMap { post in
            (post["body"] as? String).flatMap { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any] }
        }
    }

    /// Starts a small Python HTTP server for a test (`script` gets the port file and a log file as arguments, binds
    /// 127.0.0.1 on a free port and writes that port); returns the process and the port. The caller terminates it.
    func startPythonServer(_ script: String, name: String, log: String) throws -> (process: Process, port: Int) {
        try script.write(toFile: path("\(name).py"), atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", path("\(name).py"), path("\(name).port"), path(log)]
        try process.run()
        try waitFor("the \(name) server", timeout: 20) {
            (try? String(contentsOfFile: path("\(name).port"), encoding: .utf8)).flatMap { Int($0) } != nil
        }
        guard let port = Int(try String(contentsOfFile: path("\(name).port"), encoding: .utf8)) else { throw HarnessError.timeout("\(name) port") }
        return (process, port)
    }

    /// Alive and not a zombie (an orphan killed here may wait a moment for init to reap it).
    static func isRunning(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return false }
        let state = stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).first
        return state != "Z" && state != "X"
    }

    func lines(_ name: String) -> [String] {
        ((try? String(contentsOfFile: path(name), encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }
}
