import Foundation
@testable import OrchestratorCLI

/// One input: the text of the daemon's configuration file, loaded with an empty environment. Errors are fine;
/// crashes, hangs and leaks are not.
func fuzzConfiguration(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data else { return 0 }
    let path = FuzzFile.write(data, size)
    do {
        let configuration = try Configuration.load(path: path, environment: [:])
        _ = configuration.values.mapValues(\.value)
    } catch {
        _ = String(describing: error)
    }
    return 0
}

enum FuzzFile {
    nonisolated(unsafe) static var path: String = {
        let folder = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
        return "\(folder)/orchestrator-fuzz-config-\(getpid()).yaml"
    }()

    static func write(_ data: UnsafePointer<UInt8>, _ size: Int) -> String {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        if fd >= 0 {
            var written = 0
            while written < size {
                let n = Foundation.write(fd, data + written, size - written)
                if n <= 0 { break }
                written += n
            }
            close(fd)
        }
        return path
    }
}
