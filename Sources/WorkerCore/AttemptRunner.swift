import Dispatch
import Executor
#if canImport(Glibc)
import Glibc
#endif

/// One attempt of one task, run by the worker process: claim it, run the task as its own process group,
/// heartbeat, enforce the timeout, and record the outcome even if the scheduler has died meanwhile.
///
/// The worker is started once per attempt, so it avoids Foundation and waits with `sigtimedwait`
/// on SIGCHLD, SIGTERM and SIGINT: one thread, no polling, and start-up stays a few milliseconds.
public final class AttemptRunner {
    let spec: AttemptSpec
    let store: any AttemptStore
    let key: AttemptKey
    /// The node that started this worker (the scheduler passes its name), written on the attempt it claims.
    let hostname = AttemptRunner.nodeName()
    let pid = getpid()
    /// Set when a heartbeat found the attempt taken away: the task was stopped and nothing is recorded over the new state.
    var takenAway = false

    /// How often the worker proves it is alive; the scheduler treats a much older heartbeat as a dead worker.
    public static let heartbeatInterval: Double = 5
    /// How long a terminated task has to exit before it is killed.
    public static let killGrace: Double = 5

    public init(spec: AttemptSpec, store: any AttemptStore) {
        self.spec = spec
        self.store = store
        self.key = AttemptKey(dagId: spec.dagId, runId: spec.runId, taskId: spec.taskId, tryNumber: spec.tryNumber)
    }

    /// Returns the worker's exit code: 0 once an outcome is recorded, non-zero if the attempt was not ours (3: no
    /// longer queued when it started; 5: taken away while it ran).
    public func run() -> Int32 {
        // Blocked from the start so that none is lost; they are taken one at a time by sigtimedwait.
        var awaited = Self.awaitedSignals
        sigprocmask(SIG_BLOCK, &awaited, nil)
        // Whatever an older scheduler let through stays out of the task (the spawn also closes all but 0-2).
        OpenDescriptors.markCloseOnExec()

        let started = WallClock.now()
        /// When this try first started: earlier than `started` for a sensor's later pokes.
        let firstStarted: Double
        do {
            guard let first = try store.claim(key, pid: pid, hostname: hostname, at: started) else {
                Self.printError("\(key) attempt \(spec.tryNumber) is no longer queued; not running it")
                return 3
            }
            firstStarted = first
        } catch {
            Self.printError(error.description)
            return 2
        }

        let log = openLog()
        writeLog(log, "[orchestrator] \(key) attempt \(spec.tryNumber) of \(spec.maxTries) on \(hostname) started \(WallClock.iso(started))\n")
        var status: ExitStatus
        var note: String?
        do {
            (status, note) = try runTask(log: log)
        } catch {
            status = .exited(127)
            note = error.description
            writeLog(log, "[orchestrator] \(error.description)\n")
        }
        if takenAway {
            // Whoever changed the instance owns its state now: the worker records nothing over it.
            if log >= 0 { close(log) }
            wakeScheduler()
            return 5
        }
        let ended = WallClock.now()

        // A sensor whose condition does not hold yet gives its slot back and is poked again later.
        var sensorGaveUp = false
        if let sensor = spec.sensor, status == .exited(AttemptSpec.notYetExitCode), note == nil {
            if ended - firstStarted < sensor.timeout {
                let nextPoke = ended + sensor.pokeInterval
                let text = "waiting: condition not met; next poke at \(WallClock.iso(nextPoke))"
                writeLog(log, "[orchestrator] poke ended \(text)\n")
                if log >= 0 { close(log) }
                do {
                    _ = try store.reschedule(key, nextPokeAt: nextPoke, note: text, at: ended)
                } catch {
                    Self.printError(error.description)
                    return 4
                }
                wakeScheduler()
                return 0
            }
            note = "sensor timed out after \(WallClock.seconds(sensor.timeout)): the condition was never met"
            sensorGaveUp = true
        }

        let succeeded = status.succeeded && note == nil
        let willRetry = !succeeded && !sensorGaveUp && spec.tryNumber < spec.maxTries
        let state = succeeded ? "success" : (willRetry ? "up_for_retry" : "failed")
        if note == nil, !succeeded { note = status.description }
        var exitCode: Int32?
        var signal: Int32?
        switch status {
        case .exited(let code): exitCode = code
        case .signaled(let number): signal = number
        }
        let retryAt = willRetry ? ended + spec.retryDelay : nil
        var summary = "[orchestrator] attempt \(spec.tryNumber) ended \(state) (\(note ?? status.description)) after \(Self.duration(ended - started))"
        if let retryAt { summary += "; next try at \(WallClock.iso(retryAt))" }
        writeLog(log, summary + "\n")
        if log >= 0 { close(log) }

        let outcome = AttemptOutcome(state: state, startedAt: started, endedAt: ended, exitCode: exitCode, signal: signal,
                                     nextRetryAt: retryAt, note: succeeded ? nil : note)
        var recorded = false
        do {
            recorded = try store.complete(key, hostname: hostname, pid: pid, outcome: outcome)
        } catch {
            Self.printError(error.description)
        }
        wakeScheduler()
        return recorded ? 0 : 4
    }

    static var awaitedSignals: sigset_t {
        var set = sigset_t()
        sigemptyset(&set)
        for number in [SIGCHLD, SIGTERM, SIGINT] { sigaddset(&set, number) }
        return set
    }

    /// `ORCHESTRATOR_NODE_NAME` as the scheduler set it (the task inherits it too), else this machine's host name.
    static func nodeName() -> String {
        guard let value = getenv("ORCHESTRATOR_NODE_NAME") else { return SystemInfo.hostname }
        let name = String(cString: value)
        return name.isEmpty ? SystemInfo.hostname : name
    }

    /// Starts the task, then waits for it, heartbeating and enforcing the timeout. Returns how it ended and,
    /// when the worker stopped it, why.
    func runTask(log: Int32) throws(LaunchError) -> (ExitStatus, String?) {
        var environment = Self.ownEnvironment()
        for (name, value) in spec.environment { environment[name] = value }
        guard let executable = spec.argv.first else { throw LaunchError(message: "nothing to run") }

        var pipeDescriptors: [Int32] = [-1, -1]
        var output: Int32? = log >= 0 ? log : nil
        if spec.tee, pipe(&pipeDescriptors) == 0 {
            // The task gets the write end as its stdout (dup2 clears the flag there), never the ends themselves.
            for descriptor in pipeDescriptors { _ = fcntl(descriptor, F_SETFD, FD_CLOEXEC) }
            output = pipeDescriptors[1]
        }
        let childPid = try ProcessLauncher.spawn(ProcessSpec(
            executable: executable, arguments: Array(spec.argv.dropFirst()), environment: environment,
            workingDirectory: spec.workingDirectory, outputDescriptor: output, newProcessGroup: true))
        let copyDone = DispatchSemaphore(value: 0)
        if spec.tee, pipeDescriptors[0] >= 0 {
            close(pipeDescriptors[1])
            let reader = pipeDescriptors[0]
            DispatchQueue.global().async {
                Self.copy(from: reader, to: [log, 1])
                copyDone.signal()
            }
        }
        try? store.setTaskPid(key, taskPid: childPid)

        let start = WallClock.monotonic()
        var nextHeartbeat = start + Self.heartbeatInterval
        let timeoutAt = spec.executionTimeout.map { start + $0 }
        var killAt: Double?
        var stopReason: String?
        var status: ExitStatus?
        var awaited = Self.awaitedSignals

        func stop(_ reason: String) {
            guard stopReason == nil else { return }
            stopReason = reason
            ProcessLauncher.signalGroup(childPid, SIGTERM)
            killAt = WallClock.monotonic() + Self.killGrace
        }

        while status == nil {
            status = ProcessLauncher.wait(pid: childPid, block: false)
            if status != nil { break }
            let now = WallClock.monotonic()
            if let timeoutAt, now >= timeoutAt, stopReason == nil {
                stop("timed out after \(WallClock.seconds(spec.executionTimeout ?? 0)) (execution_timeout)")
            }
            if let deadline = killAt, now >= deadline {
                ProcessLauncher.signalGroup(childPid, SIGKILL)
                killAt = nil
            }
            if now >= nextHeartbeat, !takenAway {
                // A failed heartbeat (the store out of reach) changes nothing: only the store saying "not yours" does.
                if case .takenAway(let state, let tryNumber)? = try? store.heartbeat(key, at: WallClock.now()) {
                    takenAway = true
                    // Airflow's words: "State of this instance has been externally set to …. Terminating instance."
                    let atTry = tryNumber.map { " at try \($0)" } ?? ""
                    writeLog(log, "[orchestrator] State of this instance has been externally set to \(state ?? "nothing (removed)")\(atTry)."
                             + " Terminating instance.\n")
                    stop("taken away: state externally set to \(state ?? "nothing")")
                }
                nextHeartbeat = now + Self.heartbeatInterval
            }
            let wakeAt = [nextHeartbeat, stopReason == nil ? timeoutAt : nil, killAt].compactMap { $0 }.min() ?? nextHeartbeat
            let wait = max(0.001, wakeAt - WallClock.monotonic())
            var timeout = timespec(tv_sec: Int(wait), tv_nsec: Int((wait - Double(Int(wait))) * 1e9))
            var info = siginfo_t()
            let received = sigtimedwait(&awaited, &info, &timeout)
            if received == SIGTERM || received == SIGINT {
                stop("terminated by \(signalName(received)) (scheduler shutdown)")
            }
        }
        // Whatever the task left running in its group (`cmd &`) ends with it: terminate, then kill after the grace.
        if ProcessLauncher.groupIsAlive(childPid) {
            ProcessLauncher.signalGroup(childPid, SIGTERM)
            let deadline = WallClock.monotonic() + Self.killGrace
            while ProcessLauncher.groupIsAlive(childPid), WallClock.monotonic() < deadline { usleep(20_000) }
            if ProcessLauncher.groupIsAlive(childPid) { ProcessLauncher.signalGroup(childPid, SIGKILL) }
        }
        if spec.tee, pipeDescriptors[0] >= 0 {
            // The group may still hold the pipe's write end; give the copy a moment to drain.
            _ = copyDone.wait(timeout: .now() + 1)
        }
        return (status ?? .exited(255), stopReason)
    }

    static func copy(from reader: Int32, to outputs: [Int32]) {
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = read(reader, &buffer, buffer.count)
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { break }
            for fd in outputs where fd >= 0 {
                _ = buffer.withUnsafeBytes { write(fd, $0.baseAddress, count) }
            }
        }
        close(reader)
    }

    func openLog() -> Int32 {
        Self.makeDirectories(forFile: spec.logPath)
        return open(spec.logPath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o640)
    }

    /// `mkdir -p` of the file's folder.
    static func makeDirectories(forFile path: String) {
        var prefix = ""
        let components = path.split(separator: "/", omittingEmptySubsequences: true).dropLast()
        for component in components {
            prefix += "/" + component
            if mkdir(prefix, 0o755) != 0 && errno != EEXIST { return }
        }
    }

    func writeLog(_ fd: Int32, _ text: String) {
        let bytes = Array(text.utf8)
        if fd >= 0 { _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, bytes.count) } }
        if spec.tee { _ = bytes.withUnsafeBytes { write(1, $0.baseAddress, bytes.count) } }
    }

    /// Wakes the scheduler at once, rather than letting it find the outcome later.
    func wakeScheduler() {
        let fd = open(spec.schedulerPidPath, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return }
        var buffer = [UInt8](repeating: 0, count: 32)
        let count = read(fd, &buffer, buffer.count)
        close(fd)
        guard count > 0,
              let schedulerPid = Int32(String(decoding: buffer.prefix(count).filter { $0 >= 48 && $0 <= 57 }, as: UTF8.self)),
              // The pid file outlives a killed scheduler: never signal whatever process reuses its pid.
              ProcessLauncher.programName(of: schedulerPid)?.hasSuffix("orchestrator") == true,
              // The scheduler that started this worker learns of its exit from SIGCHLD; a second wake-up
              // would only cost it a second pass. Adopted workers (another parent) do need it.
              getppid() != schedulerPid else { return }
        kill(schedulerPid, SIGUSR1)
    }

    static func ownEnvironment() -> [String: String] {
        var environment: [String: String] = [:]
        var cursor = environ
        while let entry = cursor.pointee {
            let text = String(cString: entry)
            if let equals = text.firstIndex(of: "=") {
                environment[String(text[..<equals])] = String(text[text.index(after: equals)...])
            }
            cursor += 1
        }
        return environment
    }

    static func duration(_ seconds: Double) -> String {
        let millis = Int((seconds * 1000).rounded())
        let fraction = String(millis % 1000)
        return "\(millis / 1000).\(String(repeating: "0", count: 3 - fraction.count))\(fraction)s"
    }

    static func printError(_ message: String) {
        let bytes = Array("orchestrator-worker: \(message)\n".utf8)
        _ = bytes.withUnsafeBytes { write(2, $0.baseAddress, bytes.count) }
    }
}
