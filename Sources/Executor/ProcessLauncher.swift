import CSystemCalls
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How a process ended.
public enum ExitStatus: Sendable, Equatable, CustomStringConvertible {
    case exited(Int32)
    case signaled(Int32)

    public init(waitStatus status: Int32) {
        // WIFEXITED / WTERMSIG are macros, so decode the status word by hand.
        let signal = status & 0x7f
        self = signal == 0 ? .exited((status >> 8) & 0xff) : .signaled(signal)
    }

    public var succeeded: Bool { self == .exited(0) }

    public var description: String {
        switch self {
        case .exited(let code): return "exit code \(code)"
        case .signaled(let signal): return "killed by signal \(signal) (\(signalName(signal)))"
        }
    }
}

public func signalName(_ signal: Int32) -> String {
    switch signal {
    case SIGTERM: return "SIGTERM"
    case SIGKILL: return "SIGKILL"
    case SIGINT: return "SIGINT"
    case SIGHUP: return "SIGHUP"
    case SIGSEGV: return "SIGSEGV"
    case SIGABRT: return "SIGABRT"
    case SIGPIPE: return "SIGPIPE"
    default: return "signal \(signal)"
    }
}

/// What to start: the executor's whole interface is about running a process.
public struct ProcessSpec: Sendable {
    public var executable: String
    public var arguments: [String]
    /// The complete environment of the child.
    public var environment: [String: String]
    public var workingDirectory: String?
    /// stdout and stderr are appended to this file; nil inherits the parent's.
    public var outputPath: String?
    /// An already open descriptor for stdout and stderr, used instead of `outputPath`.
    public var outputDescriptor: Int32?
    /// stdin; nil is /dev/null.
    public var inputDescriptor: Int32?
    /// stderr apart from stdout (with `outputDescriptor`).
    public var errorDescriptor: Int32?
    /// Puts the child in a process group of its own, so that it and all its descendants can be signalled together.
    public var newProcessGroup: Bool
    /// Descriptors the child gets at 3, 4, … (a worker's attempt channel); every other one from 3 up is closed.
    public var passedDescriptors: [Int32] = []

    public init(executable: String, arguments: [String] = [], environment: [String: String], workingDirectory: String? = nil,
                outputPath: String? = nil, outputDescriptor: Int32? = nil, newProcessGroup: Bool = true, passedDescriptors: [Int32] = []) {
        self.executable = executable
        self.arguments = arguments
        self.environment = environment
        self.workingDirectory = workingDirectory
        self.outputPath = outputPath
        self.outputDescriptor = outputDescriptor
        self.newProcessGroup = newProcessGroup
        self.passedDescriptors = passedDescriptors
    }
}

public struct LaunchError: Error, Sendable, CustomStringConvertible {
    public let message: String
    public init(message: String) { self.message = message }
    public var description: String { message }
}

/// Starts, signals and reaps child processes with posix_spawn (no fork of a threaded parent).
public enum ProcessLauncher {
    public static func spawn(_ spec: ProcessSpec) throws(LaunchError) -> pid_t {
        var actions = posix_spawn_file_actions_t()
        var attributes = posix_spawnattr_t()
        posix_spawn_file_actions_init(&actions)
        posix_spawnattr_init(&attributes)
        defer {
            posix_spawn_file_actions_destroy(&actions)
            posix_spawnattr_destroy(&attributes)
        }
        if let fd = spec.inputDescriptor {
            posix_spawn_file_actions_adddup2(&actions, fd, 0)
        } else {
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        }
        if let fd = spec.outputDescriptor {
            posix_spawn_file_actions_adddup2(&actions, fd, 1)
            posix_spawn_file_actions_adddup2(&actions, spec.errorDescriptor ?? fd, 2)
        } else if let path = spec.outputPath {
            posix_spawn_file_actions_addopen(&actions, 1, path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o640)
            posix_spawn_file_actions_adddup2(&actions, 1, 2)
        }
        if let directory = spec.workingDirectory {
            guard access(directory, X_OK) == 0 else {
                throw LaunchError(message: "working directory \(directory) does not exist or cannot be entered")
            }
            _ = orchestrator_spawn_add_chdir(&actions, directory)
        }
        // A descriptor already at a number an earlier dup2 of this list overwrites (or at its own target, where dup2
        // would leave it close-on-exec) is moved out of the way first.
        var moved: [Int32] = []
        defer { for descriptor in moved { close(descriptor) } }
        let firstFree = Int32(3 + spec.passedDescriptors.count)
        for (index, descriptor) in spec.passedDescriptors.enumerated() {
            var source = descriptor
            if source < firstFree {
                source = fcntl(descriptor, F_DUPFD_CLOEXEC, firstFree + 16)
                guard source >= 0 else { throw LaunchError(message: "cannot start \(spec.executable): cannot move descriptor \(descriptor)") }
                moved.append(source)
            }
            posix_spawn_file_actions_adddup2(&actions, source, Int32(3 + index))
        }
        // Last, after the dup2s: the child keeps 0, 1 and 2 (and what it is passed) only. Libraries in the parent
        // (SwiftNIO's listening socket and epoll, pipes) do not all open close-on-exec, and a task holding the web
        // socket would keep a restarted daemon from binding its port.
        guard orchestrator_spawn_add_closefrom(&actions, firstFree) == 0 else {
            throw LaunchError(message: "cannot start \(spec.executable): posix_spawn_file_actions_addclosefrom_np failed")
        }
        var flags = Int32(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF)
        if spec.newProcessGroup {
            flags |= Int32(POSIX_SPAWN_SETPGROUP)
            posix_spawnattr_setpgroup(&attributes, 0)
        }
        // The child starts with no blocked signals and default dispositions, whatever the parent did.
        var emptyMask = sigset_t()
        sigemptyset(&emptyMask)
        posix_spawnattr_setsigmask(&attributes, &emptyMask)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGUSR2, SIGCHLD, SIGPIPE, SIGQUIT] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(flags))

        let argv = [spec.executable] + spec.arguments
        let envp = spec.environment.map { "\($0.key)=\($0.value)" }
        var pid: pid_t = 0
        let result = withCStrings(argv) { argvPointers in
            withCStrings(envp) { envPointers in
                posix_spawn(&pid, spec.executable, &actions, &attributes, argvPointers, envPointers)
            }
        }
        guard result == 0 else {
            throw LaunchError(message: "cannot start \(spec.executable): \(String(cString: strerror(result)))")
        }
        return pid
    }

    /// Reaps `pid` if it has ended (or waits for it when `block` is set).
    public static func wait(pid: pid_t, block: Bool) -> ExitStatus? {
        var status: Int32 = 0
        while true {
            let result = waitpid(pid, &status, block ? 0 : WNOHANG)
            if result == pid { return ExitStatus(waitStatus: status) }
            if result == -1 && errno == EINTR { continue }
            return nil
        }
    }

    /// Reaps any ended child; nil when none is waiting.
    public static func reapAny() -> (pid: pid_t, status: ExitStatus)? {
        var status: Int32 = 0
        let pid = waitpid(-1, &status, WNOHANG)
        guard pid > 0 else { return nil }
        return (pid, ExitStatus(waitStatus: status))
    }

    /// Sends `signal` to the process group led by `pid` (the child and everything it started).
    @discardableResult
    public static func signalGroup(_ pid: pid_t, _ signal: Int32) -> Bool {
        kill(-pid, signal) == 0
    }

    @discardableResult
    public static func signalProcess(_ pid: pid_t, _ signal: Int32) -> Bool {
        kill(pid, signal) == 0
    }

    /// Whether a process with this pid exists (on this host).
    public static func isAlive(_ pid: pid_t) -> Bool {
        kill(pid, 0) == 0 || errno == EPERM
    }

    /// The program name (argv[0]) of a live, non-zombie process, read from /proc; nil if there is none.
    /// Used before signalling a pid read from a file, so that a recycled pid is never mistaken for ours.
    public static func programName(of pid: pid_t) -> String? {
        guard pid > 0, isAlive(pid) else { return nil }
        let fd = open("/proc/\(pid)/cmdline", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = read(fd, &buffer, buffer.count)
        guard count > 0 else { return nil }  // empty for a zombie
        return String(decoding: buffer.prefix(count).prefix { $0 != 0 }, as: UTF8.self)
    }

    /// Whether a process group with this id still has members.
    public static func groupIsAlive(_ pgid: pid_t) -> Bool {
        kill(-pgid, 0) == 0 || errno == EPERM
    }
}

/// Calls `body` with a NULL-terminated C array of the strings.
func withCStrings<R>(_ strings: [String], _ body: ([UnsafeMutablePointer<CChar>?]) -> R) -> R {
    var pointers: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) }
    pointers.append(nil)
    defer { for pointer in pointers { free(pointer) } }
    return body(pointers)
}
