import Foundation

/// Start-up (argument parsing, YAML, migrations, the web server's set-up) runs code scattered over the whole
/// executable, and every page fault on it maps a block of neighbouring pages too, so the daemon would keep
/// tens of MB of code resident that it never runs again. Once it is ready, it hands back the executable's code
/// pages (read-only and unmodified, so this only drops mappings of the page cache); the code the idle loop and
/// the pages use comes back on demand. Writable and relocated (RELRO) segments are never touched.
enum StartupMemory {
    static func releaseExecutableCode() {
        guard let executable = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"),
              let maps = try? String(contentsOfFile: "/proc/self/maps", encoding: .utf8) else { return }
        for line in maps.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 6, fields[1] == "r-xp", fields[5...].joined(separator: " ") == executable else { continue }
            let bounds = fields[0].split(separator: "-")
            guard bounds.count == 2, let start = UInt(bounds[0], radix: 16), let end = UInt(bounds[1], radix: 16), end > start,
                  let address = UnsafeMutableRawPointer(bitPattern: start) else { continue }
            _ = madvise(address, Int(end - start), MADV_DONTNEED)
        }
    }
}
