import Executor
import Foundation

/// DuckDB's official command-line binary, driven as psql would be: one process per step, the SQL script on its
/// standard input (no shell, no SQL in argv), results read back from stdout as CSV and errors from stderr. Every
/// DuckDB use of the library (the warehouse, gold models, later Parquet files) goes through `run`, which bounds
/// the output kept and the time a script may take.
///
/// The binary: `ORCHESTRATOR_DUCKDB`, else `duckdb` on PATH, else the copy `scripts/run` / `scripts/test` install
/// under `~/.cache/orchestrator/duckdb-cli-<pinned>/` (pip's `duckdb-cli`).
struct DuckDBCLI: Sendable {
    /// The version scripts/lib.sh installs (`ensure_duckdb`); keep the two in step.
    static let pinnedVersion = "1.5.6"
    static let installHint = "install DuckDB's CLI with scripts/run or scripts/test (pip install --target ~/.cache/orchestrator/duckdb-cli-\(pinnedVersion) duckdb-cli==\(pinnedVersion)), or set ORCHESTRATOR_DUCKDB to a duckdb binary"

    let executable: String
    /// The database file the scripts run against.
    let database: String
    /// Seconds one script may run before it is killed.
    var timeout: TimeInterval = 3600
    /// Bytes of standard output kept; a script printing more fails (results are meant to be small: counts,
    /// column lists, samples; data goes through files).
    var outputLimit = 16 << 20

    init(executable: String, database: String) {
        self.executable = executable
        self.database = database
    }

    /// Finds the binary, or fails with one line saying how to install it.
    static func locate(environment: [String: String] = ProcessInfo.processInfo.environment) throws(TransformError) -> String {
        let files = FileManager.default
        if let configured = environment["ORCHESTRATOR_DUCKDB"], !configured.isEmpty {
            guard files.isExecutableFile(atPath: configured) else {
                throw TransformError("ORCHESTRATOR_DUCKDB=\(configured) is not an executable file; \(installHint)")
            }
            return configured
        }
        let folders = (environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin").split(separator: ":").map(String.init)
        for folder in folders where !folder.isEmpty {
            let candidate = "\(folder)/duckdb"
            if files.isExecutableFile(atPath: candidate) { return candidate }
        }
        if let home = environment["HOME"], !home.isEmpty {
            let installed = "\(home)/.cache/orchestrator/duckdb-cli-\(pinnedVersion)/duckdb_cli/duckdb"
            if files.isExecutableFile(atPath: installed) { return installed }
        }
        throw TransformError("DuckDB's CLI (duckdb) is not installed: \(installHint)")
    }

    /// Runs `script` against the database and returns its standard output. `-bail` stops at the first error, so
    /// an open transaction dies with the process (DuckDB rolls it back). A failure is a `DuckDBFailure` holding
    /// DuckDB's message on one line.
    func run(_ script: String) throws(DuckDBFailure) -> String {
        signal(SIGPIPE, SIG_IGN)  // a script that fails early closes its stdin under our write
        // Only what DuckDB needs: the task's connections and the lake's keys stay in this process. TZ is left out:
        // the scripts set UTC themselves, so results do not depend on the machine's zone.
        var environment: [String: String] = [:]
        for name in ["PATH", "HOME", "TMPDIR", "LANG", "LC_ALL"] {
            if let value = ProcessInfo.processInfo.environment[name] { environment[name] = value }
        }
        var input: [Int32] = [-1, -1], output: [Int32] = [-1, -1], errors: [Int32] = [-1, -1]
        // Close-on-exec, so that no other child started meanwhile inherits them (the spawn dups them onto 0-2).
        func openPipe(_ ends: inout [Int32]) -> Bool {
            guard pipe(&ends) == 0 else { return false }
            for fd in ends { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
            return true
        }
        guard openPipe(&input), openPipe(&output), openPipe(&errors) else {
            for fd in input + output + errors where fd >= 0 { close(fd) }
            throw DuckDBFailure(message: "cannot start \(executable): no pipes (\(String(cString: strerror(errno))))")
        }
        // In this process's group (Foundation's Process would give it a group of its own): a task killed by its
        // group, on a timeout or a node's recovery, takes DuckDB with it instead of leaving it holding the file.
        // -init /dev/null: the user's ~/.duckdbrc must not change what a task does.
        var spec = ProcessSpec(executable: executable, arguments: ["-init", "/dev/null", "-bail", "-csv", "-nullvalue", "", database],
                               environment: environment, outputDescriptor: output[1], newProcessGroup: false)
        spec.inputDescriptor = input[0]
        spec.errorDescriptor = errors[1]
        let pid: pid_t
        do throws(LaunchError) {
            pid = try ProcessLauncher.spawn(spec)
        } catch {
            for fd in input + output + errors { close(fd) }
            throw DuckDBFailure(message: "\(error.message); \(Self.installHint)")
        }
        close(input[0]); close(output[1]); close(errors[1])
        let finished = DispatchSemaphore(value: 0)
        let status = ExitStatusBox()
        Thread.detachNewThread {
            status.value = ProcessLauncher.wait(pid: pid, block: true)
            finished.signal()
        }
        let stdout = BoundedReader(fd: output[0], limit: outputLimit)
        let stderr = BoundedReader(fd: errors[0], limit: 64 << 10)
        // Threads of their own, not Dispatch's pool: these block in read and write, and the pool (as many threads as
        // cores) grows late. On 2 cores, with a shell script as ORCHESTRATOR_DUCKDB, the writer of a task's first
        // script waited about a second for a third thread, DuckDB idle meanwhile.
        let readers = DispatchGroup()
        func detach(_ work: @escaping @Sendable () -> Void) {
            readers.enter()
            Thread.detachNewThread {
                work()
                readers.leave()
            }
        }
        for reader in [stdout, stderr] { detach { reader.drain() } }
        let bytes = Array(script.utf8)
        let writer = input[1]
        detach {
            var offset = 0
            while offset < bytes.count {
                let written = bytes[offset...].withUnsafeBytes { Glibc.write(writer, $0.baseAddress, $0.count) }
                if written < 0 { if errno == EINTR { continue }; break }
                offset += written
            }
            close(writer)
        }
        var timedOut = false
        if finished.wait(timeout: .now() + timeout) == .timedOut {
            timedOut = true
            kill(pid, SIGTERM)
            if finished.wait(timeout: .now() + 5) == .timedOut {
                kill(pid, SIGKILL)
                finished.wait()
            }
        }
        readers.wait()
        close(output[0]); close(errors[0])
        if timedOut {
            throw DuckDBFailure(message: "DuckDB did not finish within \(Int(timeout)) s; stopped")
        }
        if stdout.overflowed {
            throw DuckDBFailure(message: "DuckDB printed more than \(outputLimit) bytes; results are meant to be small")
        }
        let errorText = String(decoding: stderr.data, as: UTF8.self)
        let ended = status.value ?? .exited(-1)
        guard ended.succeeded && errorText.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            var failure = DuckDBFailure(stderr: errorText)
            if failure.message.isEmpty { failure.message = "duckdb ended with \(ended)" }
            failure.output = String(decoding: stdout.data, as: UTF8.self)
            throw failure
        }
        return String(decoding: stdout.data, as: UTF8.self)
    }

    /// Runs `script` and reads its one result (CSV with a header) back as rows of text; NULL is nil.
    func query(_ script: String) throws(DuckDBFailure) -> (columns: [String], rows: [[String?]]) {
        let records = DuckDBCSV.parse(try run(script))
        guard let header = records.first else { return ([], []) }
        return (header.map { $0 ?? "" }, Array(records.dropFirst()))
    }
}

/// The child's exit status, handed from the thread that waits for it.
private final class ExitStatusBox: @unchecked Sendable {
    var value: ExitStatus?
}

/// Reads a file descriptor to its end, keeping at most `limit` bytes (the rest is drained, so the writer never
/// blocks on a full pipe).
private final class BoundedReader: @unchecked Sendable {
    let fd: Int32
    let limit: Int
    private(set) var data: [UInt8] = []
    private(set) var overflowed = false

    init(fd: Int32, limit: Int) {
        self.fd = fd
        self.limit = limit
    }

    func drain() {
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { break }
            if data.count + count <= limit {
                data.append(contentsOf: buffer[0..<count])
            } else {
                overflowed = true
            }
        }
    }
}

/// A DuckDB error as one line: its message (the lines DuckDB prints, joined), and the line of the failing
/// statement it points at (`LINE 4: FROM nope;`), when it gives one.
struct DuckDBFailure: Error, CustomStringConvertible, Sendable {
    var message: String
    /// 1-based line within the failing statement.
    var statementLine: Int?
    /// The text DuckDB shows for that line (trimmed).
    var lineText: String?
    /// What the script printed before it failed (its sections' markers tell where it was: `DuckDBSections`).
    var output = ""

    init(message: String) { self.message = message }

    init(stderr: String) {
        var parts: [String] = []
        for raw in stderr.split(separator: "\n", omittingEmptySubsequences: true) {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.allSatisfy({ $0 == "^" }) { continue }
            if line.hasPrefix("LINE "), let colon = line.firstIndex(of: ":"),
               let number = Int(line[line.index(line.startIndex, offsetBy: 5)..<colon]) {
                statementLine = number
                lineText = String(line[line.index(after: colon)...]).trimmingCharacters(in: .whitespaces)
                continue
            }
            parts.append(line)
        }
        message = parts.joined(separator: " ")
    }

    /// DuckDB's own lock error: another process (an analyst's CLI, a tool outside the orchestrator) has the file.
    var isLockConflict: Bool { message.contains("Could not set lock on file") }

    var description: String {
        message + (lineText.map { " (at: \($0))" } ?? "")
    }
}

/// DuckDB's CLI CSV output (RFC 4180: quoted fields, doubled quotes, CRLF or LF) into records; with
/// `-nullvalue ''`, an empty unquoted field is NULL.
enum DuckDBCSV {
    static func parse(_ text: String) -> [[String?]] {
        var records: [[String?]] = []
        var record: [String?] = []
        var field: [UInt8] = []
        var quoted = false, wasQuoted = false, inQuotes = false
        let bytes = Array(text.utf8)
        var index = 0
        func endField() {
            record.append(field.isEmpty && !wasQuoted ? nil : String(decoding: field, as: UTF8.self))
            field = []
            wasQuoted = false
            quoted = false
        }
        while index < bytes.count {
            let byte = bytes[index]
            if inQuotes {
                if byte == 0x22 {
                    if index + 1 < bytes.count && bytes[index + 1] == 0x22 { field.append(0x22); index += 2; continue }
                    inQuotes = false
                } else {
                    field.append(byte)
                }
            } else if byte == 0x22 && field.isEmpty && !quoted {
                inQuotes = true
                quoted = true
                wasQuoted = true
            } else if byte == 0x2C {
                endField()
            } else if byte == 0x0A {
                endField()
                records.append(record)
                record = []
            } else if byte != 0x0D {
                field.append(byte)
            }
            index += 1
        }
        if !field.isEmpty || !record.isEmpty || wasQuoted {
            endField()
            records.append(record)
        }
        return records
    }
}
