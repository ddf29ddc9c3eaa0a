import CSystemCalls
#if canImport(Glibc)
import Glibc
#endif

/// Keeps secrets the process read at start-up away from the processes it starts and from its neighbours.
///
/// `unsetenv` only drops a variable from `environ`; /proc/PID/environ shows the block the kernel put on the stack
/// at exec, which still holds it. So the variable's bytes in that block are overwritten too.
public enum ProcessSecrets {
    /// Removes the variables for which `isSecret(name, value)` holds from the environment and wipes them from the
    /// initial environment block. Call it before other threads start (setenv/unsetenv are not thread-safe).
    /// Returns the names removed.
    @discardableResult
    public static func scrubEnvironment(where isSecret: (String, String) -> Bool) -> [String] {
        var names: [String] = []
        var cursor = environ
        while let entry = cursor.pointee {
            let text = String(cString: entry)
            if let equals = text.firstIndex(of: "=") {
                let name = String(text[..<equals]), value = String(text[text.index(after: equals)...])
                if isSecret(name, value) { names.append(name) }
            }
            cursor += 1
        }
        guard !names.isEmpty else { return [] }
        for name in names { unsetenv(name) }
        wipeInitialBlock(names: Set(names))
        return names
    }

    /// Overwrites, in the block between env_start and env_end of /proc/self/stat, each `NAME=VALUE` whose name is
    /// in `names` with NUL bytes (earlier setenv calls leave the original string there).
    static func wipeInitialBlock(names: Set<String>) {
        guard let (start, end) = environmentBlock(), end > start,
              let base = UnsafeMutablePointer<UInt8>(bitPattern: start) else { return }
        let length = Int(end - start)
        var offset = 0
        while offset < length {
            var stringEnd = offset
            while stringEnd < length, base[stringEnd] != 0 { stringEnd += 1 }
            if stringEnd > offset {
                let entry = UnsafeBufferPointer(start: base + offset, count: stringEnd - offset)
                if let equals = entry.firstIndex(of: UInt8(ascii: "=")),
                   names.contains(String(decoding: entry[..<equals], as: UTF8.self)) {
                    (base + offset).update(repeating: 0, count: stringEnd - offset)
                }
            }
            offset = stringEnd + 1
        }
    }

    /// Fields 50 and 51 (env_start, env_end) of /proc/self/stat, counted after the command name's closing ')'.
    static func environmentBlock() -> (UInt, UInt)? {
        let fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = read(fd, &buffer, buffer.count)
        guard count > 0, let close = buffer.prefix(count).lastIndex(of: UInt8(ascii: ")")) else { return nil }
        // After ')' comes field 3 (state); env_start is field 50.
        let fields = buffer[(close + 1)..<count].split(separator: UInt8(ascii: " "))
        guard fields.count >= 49, let start = UInt(String(decoding: fields[47], as: UTF8.self)),
              let end = UInt(String(decoding: fields[48], as: UTF8.self).filter(\.isNumber)) else { return nil }
        return (start, end)
    }

    /// Makes the process non-dumpable: other processes of the same user cannot read its memory, environment or
    /// descriptors through /proc or ptrace, and it writes no core dump.
    @discardableResult
    public static func makeNonDumpable() -> Bool {
        orchestrator_set_dumpable(0) == 0
    }

    public static var isDumpable: Bool { orchestrator_get_dumpable() == 1 }
}
