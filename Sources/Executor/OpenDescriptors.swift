#if canImport(Glibc)
import Glibc
#endif

/// The descriptors this process has open, read from /proc/self/fd.
public enum OpenDescriptors {
    /// Every open descriptor number (the directory's own descriptor excluded).
    public static func list() -> [Int32] {
        guard let directory = opendir("/proc/self/fd") else { return [] }
        defer { closedir(directory) }
        let own = dirfd(directory)
        var found: [Int32] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if let number = Int32(name), number != own { found.append(number) }
        }
        return found
    }

    /// Marks every descriptor from `lowest` up close-on-exec; returns how many were not. Belt and braces beside
    /// the spawn's closefrom: also covers a library that forks and execs on its own.
    @discardableResult
    public static func markCloseOnExec(from lowest: Int32 = 3) -> Int {
        var changed = 0
        for descriptor in list() where descriptor >= lowest {
            let flags = fcntl(descriptor, F_GETFD)
            guard flags >= 0, flags & FD_CLOEXEC == 0 else { continue }
            if fcntl(descriptor, F_SETFD, flags | FD_CLOEXEC) == 0 { changed += 1 }
        }
        return changed
    }
}
