import Foundation
@testable import Transforms

/// One input: the bytes of a CSV file, read by both readers with a small buffer (so that records cross refills
/// and grow the buffer). They share one grammar, so they must agree on every record and every error.
func fuzzCSV(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data else { return 0 }
    let path = FuzzFile.write(data, size)
    var readerRecords: [[String]] = []
    var readerError: String?
    do {
        let reader = try CSVReader(path: path, bufferSize: 64)
        while let record = try reader.next() { readerRecords.append(record) }
    } catch { readerError = error.description }

    var scannerRecords: [[String]] = []
    var scannerError: String?
    do {
        let scanner = try CSVFieldScanner(path: path, bufferSize: 64)
        while try scanner.next() { scannerRecords.append(scanner.strings()) }
    } catch { scannerError = error.description }

    if readerRecords != scannerRecords || readerError != scannerError {
        fatalError("CSVReader and CSVFieldScanner disagree:\n\(readerRecords) \(readerError ?? "")\n\(scannerRecords) \(scannerError ?? "")")
    }
    return 0
}

/// The readers read files: each input goes to one file per process, in memory when /dev/shm exists.
enum FuzzFile {
    nonisolated(unsafe) static var path: String = {
        let folder = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
        return "\(folder)/orchestrator-fuzz-\(getpid()).csv"
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
