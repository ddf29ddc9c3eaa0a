import CLibPQ
import Foundation

/// A PostgreSQL connection through libpq, for streaming extracts (COPY … TO STDOUT) and loads
/// (COPY … FROM STDIN). Error messages never include the connection's password.
final class PostgresConnection {
    private let connection: OpaquePointer
    /// The URL with its password masked, for messages.
    let displayURL: String

    init(url: String) throws(TransformError) {
        displayURL = Connections.redacted(url)
        guard let connection = PQconnectdb(url) else { throw TransformError("cannot connect to \(displayURL): out of memory") }
        self.connection = connection
        guard PQstatus(connection) == CONNECTION_OK else {
            let message = Self.message(PQerrorMessage(connection))
            // Every stored property is set, so deinit runs and closes the connection (PQfinish here would free it twice).
            throw TransformError("cannot connect to \(displayURL): \(Connections.redactedText(message, url: url))")
        }
        // Timestamps travel as UTC text whatever the server's setting.
        try execute("SET TIME ZONE 'UTC'")
    }

    deinit { PQfinish(connection) }

    static func message(_ pointer: UnsafePointer<CChar>?) -> String {
        (pointer.map { String(cString: $0) } ?? "unknown error").trimmingCharacters(in: .whitespacesAndNewlines)
    }

    var lastError: String { Self.message(PQerrorMessage(connection)) }

    /// Runs SQL without parameters or results (several statements allowed).
    func execute(_ sql: String) throws(TransformError) {
        guard let result = PQexec(connection, sql) else { throw TransformError("\(displayURL): \(lastError)") }
        defer { PQclear(result) }
        let status = PQresultStatus(result)
        guard status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK else {
            throw TransformError("\(displayURL): \(Self.summary(sql)) failed: \(Self.message(PQresultErrorMessage(result)))")
        }
    }

    /// Runs one statement with text parameters; returns the rows as text (nil for NULL).
    func query(_ sql: String, _ parameters: [String?] = []) throws(TransformError) -> [[String?]] {
        var cStrings = parameters.map { $0.map { strdup($0) } ?? nil }
        defer { for pointer in cStrings { free(pointer) } }
        let result = cStrings.withUnsafeMutableBufferPointer { buffer -> OpaquePointer? in
            guard let base = buffer.baseAddress else { return PQexecParams(connection, sql, 0, nil, nil, nil, nil, 0) }
            return base.withMemoryRebound(to: UnsafePointer<CChar>?.self, capacity: buffer.count) { values in
                PQexecParams(connection, sql, Int32(parameters.count), nil, values, nil, nil, 0)
            }
        }
        guard let result else { throw TransformError("\(displayURL): \(lastError)") }
        defer { PQclear(result) }
        let status = PQresultStatus(result)
        guard status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK else {
            throw TransformError("\(displayURL): \(Self.summary(sql)) failed: \(Self.message(PQresultErrorMessage(result)))")
        }
        var rows: [[String?]] = []
        for row in 0..<PQntuples(result) {
            rows.append((0..<PQnfields(result)).map { column in
                PQgetisnull(result, row, column) == 1 ? nil : String(cString: PQgetvalue(result, row, column))
            })
        }
        return rows
    }

    /// Streams `COPY … TO STDOUT` (CSV) into a file; returns the bytes written and the CSV records seen
    /// (line breaks outside quotes, counted on the way rather than by reading the file again).
    func copyOut(_ sql: String, to path: String) throws(TransformError) -> (bytes: Int, records: Int) {
        guard let result = PQexec(connection, sql) else { throw TransformError("\(displayURL): \(lastError)") }
        let status = PQresultStatus(result)
        let startError = Self.message(PQresultErrorMessage(result))
        PQclear(result)
        guard status == PGRES_COPY_OUT else { throw TransformError("\(displayURL): \(Self.summary(sql)) failed: \(startError)") }
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw TransformError("cannot create \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var total = 0
        var counter = CSVRecordCounter()
        var writeError: String?
        // COPY hands over one row per call: gather rows into large writes instead of one syscall each.
        var pending: [UInt8] = []
        pending.reserveCapacity(1 << 20)
        func flush() {
            var offset = 0
            while offset < pending.count, writeError == nil {
                let written = pending.withUnsafeBytes { bytes -> Int in
                    guard let base = bytes.baseAddress else { return 0 }
                    return write(fd, base + offset, bytes.count - offset)
                }
                if written < 0 { if errno == EINTR { continue }; writeError = String(cString: strerror(errno)); break }
                offset += written
            }
            pending.removeAll(keepingCapacity: true)
        }
        while true {
            var buffer: UnsafeMutablePointer<CChar>?
            let count = PQgetCopyData(connection, &buffer, 0)
            if count > 0, let buffer {
                UnsafeRawBufferPointer(start: buffer, count: Int(count)).withMemoryRebound(to: UInt8.self) { bytes in
                    pending.append(contentsOf: bytes)
                    counter.feed(bytes)
                }
                total += Int(count)
                PQfreemem(buffer)
                if pending.count >= 1 << 20 { flush() }
            } else if count == -1 {
                break
            } else {
                throw TransformError("\(displayURL): COPY failed: \(lastError)")
            }
        }
        flush()
        // The final result of the COPY tells whether the query itself succeeded.
        while let final = PQgetResult(connection) {
            defer { PQclear(final) }
            if PQresultStatus(final) != PGRES_COMMAND_OK {
                throw TransformError("\(displayURL): \(Self.summary(sql)) failed: \(Self.message(PQresultErrorMessage(final)))")
            }
        }
        if let writeError { throw TransformError("cannot write \(path): \(writeError)") }
        guard fsync(fd) == 0 else { throw TransformError("cannot sync \(path)") }
        return (total, counter.records)
    }

    /// Streams a file into `COPY … FROM STDIN`.
    func copyIn(_ sql: String, from path: String, prefix: [UInt8] = []) throws(TransformError) {
        guard let result = PQexec(connection, sql) else { throw TransformError("\(displayURL): \(lastError)") }
        let status = PQresultStatus(result)
        let startError = Self.message(PQresultErrorMessage(result))
        PQclear(result)
        guard status == PGRES_COPY_IN else { throw TransformError("\(displayURL): \(Self.summary(sql)) failed: \(startError)") }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            PQputCopyEnd(connection, "cannot open the input file")
            _ = PQgetResult(connection).map { PQclear($0) }
            throw TransformError("cannot open \(path): \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        var buffer = [CChar](repeating: 0, count: 1 << 20)
        while true {
            let count = read(fd, &buffer, buffer.count)
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { break }
            guard PQputCopyData(connection, buffer, Int32(count)) == 1 else {
                throw TransformError("\(displayURL): COPY failed: \(lastError)")
            }
        }
        guard PQputCopyEnd(connection, nil) == 1 else { throw TransformError("\(displayURL): COPY failed: \(lastError)") }
        while let final = PQgetResult(connection) {
            defer { PQclear(final) }
            if PQresultStatus(final) != PGRES_COMMAND_OK {
                throw TransformError("\(displayURL): \(Self.summary(sql)) failed: \(Self.message(PQresultErrorMessage(final)))")
            }
        }
    }

    static func summary(_ sql: String) -> String {
        let line = sql.split(separator: "\n").first.map(String.init) ?? sql
        return line.count > 80 ? String(line.prefix(80)) + "…" : line
    }

    /// `"schema"."table"`
    static func quote(_ identifier: String) -> String { "\"\(identifier.replacingOccurrences(of: "\"", with: "\"\""))\"" }
}
