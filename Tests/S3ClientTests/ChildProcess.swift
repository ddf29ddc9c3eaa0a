import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Runs this test bundle again, in a child process, for one test, and returns how it exited and its peak
/// resident memory (wait4's rusage: the child's own, not this process's nor its other children's).
enum ChildProcess {
    struct Outcome {
        var exitStatus: Int32
        var peakResidentBytes: Int
    }

    static func runTest(_ testName: String, environment extra: [String: String], output: String) throws -> Outcome {
        let executable = CommandLine.arguments[0]
        var environment = ProcessInfo.processInfo.environment
        for (name, value) in extra { environment[name] = value }
        let arguments: [String] = [executable, testName]
        let argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        let envp: [UnsafeMutablePointer<CChar>?] = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { (argv + envp).forEach { free($0) } }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, executable, &actions, nil, argv, envp)
        guard spawned == 0 else { throw NSError(domain: "spawn", code: Int(spawned)) }
        var status: Int32 = 0
        var usage = rusage()
        while wait4(pid, &status, 0, &usage) < 0 && errno == EINTR {}
        let exited = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        return Outcome(exitStatus: exited, peakResidentBytes: Int(usage.ru_maxrss) * 1024)   // ru_maxrss is in KiB on Linux
    }
}
