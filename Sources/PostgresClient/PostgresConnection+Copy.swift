import CLibPQ
import Foundation

/// Bulk transfer: `COPY … TO STDOUT` into a file and `COPY … FROM STDIN` from one.
extension PostgresConnection {
    /// Streams `COPY … TO STDOUT` into a file (fsynced); `observe` sees every chunk on the way (to count records without
    /// reading the file again). Returns the bytes written. File errors are `PostgresError`s of kind permanent naming the file.
    public func copyOut(_ sql: String, to path: String, observe: (UnsafeBufferPointer<UInt8>) -> Void = { _ in }) throws(PostgresError) -> Int {
        try startCopy(sql, expecting: PGRES_COPY_OUT)
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw fileError("create \(path)") }
        defer { close(fd) }
        var total = 0
        var writeError: PostgresError?
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
                if written < 0 { if errno == EINTR { continue }; writeError = fileError("write \(path)"); break }
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
                    observe(bytes)
                }
                total += Int(count)
                PQfreemem(buffer)
                if pending.count >= 1 << 20 { flush() }
            } else if count == -1 {
                break
            } else {
                throw PostgresError(kind: isConnected ? .permanent : .unavailable, url: url.description, operation: "COPY",
                                    message: url.masking(lastError))
            }
        }
        flush()
        try finishCopy(sql)
        if let writeError { throw writeError }
        guard fsync(fd) == 0 else { throw fileError("sync \(path)") }
        return total
    }

    /// Streams a file into `COPY … FROM STDIN`.
    public func copyIn(_ sql: String, from path: String) throws(PostgresError) {
        try startCopy(sql, expecting: PGRES_COPY_IN)
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            let error = fileError("open \(path)")
            PQputCopyEnd(connection, "cannot open the input file")
            while let result = PQgetResult(connection) { PQclear(result) }
            throw error
        }
        defer { close(fd) }
        var buffer = [CChar](repeating: 0, count: 1 << 20)
        while true {
            let count = read(fd, &buffer, buffer.count)
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { break }
            guard PQputCopyData(connection, buffer, Int32(count)) == 1 else {
                throw PostgresError(kind: .unavailable, url: url.description, operation: "COPY", message: url.masking(lastError))
            }
        }
        guard PQputCopyEnd(connection, nil) == 1 else {
            throw PostgresError(kind: .unavailable, url: url.description, operation: "COPY", message: url.masking(lastError))
        }
        try finishCopy(sql)
    }

    private func startCopy(_ sql: String, expecting status: ExecStatusType) throws(PostgresError) {
        let result = PQexec(connection, sql)
        defer { PQclear(result) }
        if let result, PQresultStatus(result) == status { return }
        try check(result, sql)
        throw PostgresError(kind: .permanent, url: url.description, operation: Self.summary(sql), message: "is not a COPY in that direction")
    }

    /// The final result of a COPY tells whether the statement itself succeeded.
    private func finishCopy(_ sql: String) throws(PostgresError) {
        var failure: PostgresError?
        while let final = PQgetResult(connection) {
            if failure == nil, PQresultStatus(final) != PGRES_COMMAND_OK { failure = error(final, sql) }
            PQclear(final)
        }
        if let failure { throw failure }
    }

    private func fileError(_ operation: String) -> PostgresError {
        PostgresError(kind: .permanent, url: url.description, operation: operation, message: String(cString: strerror(errno)))
    }
}
