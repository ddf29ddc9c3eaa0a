import Dispatch
import Executor
import Foundation
import MetadataStore
#if canImport(Glibc)
import Glibc
#endif

/// One attempt of one task, run by the worker process: claim it, run the task as its own process group,
/// heartbeat, enforce the timeout, and record the outcome even if the scheduler has died meanwhile.
public final class AttemptRunner: @unchecked Sendable {
    let spec: AttemptSpec
    let store: any MetadataStore
    let key: TaskKey
    let hostname = SystemInfo.hostname
    /// Set from signal handlers and timers; guarded by `lock`.
    private let lock = NSLock()
    private var childPid: pid_t = 0
    private var stopReason: String?

    /// How often the worker proves it is alive; the scheduler treats a much older heartbeat as a dead worker.
    public static let heartbeatInterval: Double = 5
    /// How long a terminated task has to exit before it is killed.
    public static let killGrace: Double = 5

    public init(spec: AttemptSpec, store: any MetadataStore) {
        self.spec = spec
        self.store = store
        self.key = TaskKey(dagId: spec.dagId, runId: spec.runId, taskId: spec.taskId)
    }

    /// Returns the worker's exit code: 0 once an outcome is recorded, non-zero if the attempt was not ours.
    public func run() -> Int32 {
        let started = Date()
        let claimed: Bool
        do {
            claimed = try store.updateTaskInstance(key, expecting: [.queued], tryNumber: spec.tryNumber, set: [
                .state(.running), .pid(getpid()), .hostname(hostname), .startedAt(started), .heartbeatAt(started),
            ])
        } catch {
            FileHandle.standardError.write(Data("orchestrator-worker: \(error)\n".utf8))
            return 2
        }
        guard claimed else {
            FileHandle.standardError.write(Data("orchestrator-worker: \(key) attempt \(spec.tryNumber) is no longer queued; not running it\n".utf8))
            return 3
        }
        try? store.recordAttempt(TaskAttempt(key: key, tryNumber: spec.tryNumber, state: .running, hostname: hostname,
                                             pid: getpid(), startedAt: started))

        let log = openLog()
        writeLog(log, "[orchestrator] \(key) attempt \(spec.tryNumber) of \(spec.maxTries) on \(hostname) started \(Self.stamp(started))\n")
        let status: ExitStatus
        var note: String?
        do {
            status = try runTask(log: log)
        } catch {
            status = .exited(127)
            note = error.description
            writeLog(log, "[orchestrator] \(error.description)\n")
        }
        let ended = Date()
        lock.lock()
        if let reason = stopReason { note = reason }
        lock.unlock()

        let succeeded = status.succeeded && note == nil
        let willRetry = !succeeded && spec.tryNumber < spec.maxTries
        let state: TaskState = succeeded ? .success : (willRetry ? .upForRetry : .failed)
        if note == nil, !succeeded { note = status.description }
        var exitCode: Int32?
        var signal: Int32?
        switch status {
        case .exited(let code): exitCode = code
        case .signaled(let number): signal = number
        }
        let duration = ended.timeIntervalSince(started)
        let retryAt = willRetry ? ended.addingTimeInterval(spec.retryDelays.delayAfterThisTry) : nil
        var summary = "[orchestrator] attempt \(spec.tryNumber) ended \(state.rawValue) (\(note ?? status.description)) after \(String(format: "%.3f", duration))s"
        if let retryAt { summary += "; next try at \(Self.stamp(retryAt))" }
        writeLog(log, summary + "\n")
        if log >= 0 { close(log) }

        let attempt = TaskAttempt(key: key, tryNumber: spec.tryNumber, state: state, hostname: hostname, pid: getpid(),
                                  startedAt: started, endedAt: ended, exitCode: exitCode, signal: signal, note: succeeded ? nil : note)
        let recorded = (try? store.completeAttempt(attempt, set: [
            .state(state), .endedAt(ended), .duration(duration), .exitCode(exitCode), .signal(signal),
            .nextRetryAt(retryAt), .note(succeeded ? nil : note), .heartbeatAt(ended),
        ])) ?? false
        wakeScheduler()
        return recorded ? 0 : 4
    }

    /// Starts the task, then waits for it while heartbeats and the timeout run on timers.
    func runTask(log: Int32) throws(LaunchError) -> ExitStatus {
        var environment = ProcessInfo.processInfo.environment
        for (name, value) in spec.environment { environment[name] = value }
        guard let executable = spec.argv.first else { throw LaunchError(message: "nothing to run") }

        var pipeDescriptors: [Int32] = [-1, -1]
        var output: Int32? = log >= 0 ? log : nil
        if spec.tee, pipe(&pipeDescriptors) == 0 { output = pipeDescriptors[1] }
        let processSpec = ProcessSpec(
            executable: executable, arguments: Array(spec.argv.dropFirst()), environment: environment,
            workingDirectory: spec.workingDirectory, outputDescriptor: output, newProcessGroup: true)
        installSignalHandlers()
        let pid = try ProcessLauncher.spawn(processSpec)
        lock.lock()
        childPid = pid
        let alreadyStopping = stopReason != nil
        lock.unlock()
        if alreadyStopping { ProcessLauncher.signalGroup(pid, SIGTERM) }
        _ = try? store.updateTaskInstance(key, expecting: [.running], tryNumber: spec.tryNumber, set: [.taskPid(pid)])

        let queue = DispatchQueue(label: "orchestrator.worker.timers")
        let heartbeat = DispatchSource.makeTimerSource(queue: queue)
        heartbeat.schedule(deadline: .now() + Self.heartbeatInterval, repeating: Self.heartbeatInterval)
        heartbeat.setEventHandler { [store, key, spec] in
            _ = try? store.updateTaskInstance(key, expecting: [.running], tryNumber: spec.tryNumber, set: [.heartbeatAt(Date())])
        }
        heartbeat.resume()
        var timeout: DispatchSourceTimer?
        if let limit = spec.executionTimeout {
            let timer = DispatchSource.makeTimerSource(queue: queue)
            timer.schedule(deadline: .now() + limit)
            timer.setEventHandler { [weak self] in
                self?.stop(reason: "timed out after \(Self.formatSeconds(limit)) (execution_timeout)")
            }
            timer.resume()
            timeout = timer
        }
        var teeThread: Thread?
        if spec.tee, pipeDescriptors[0] >= 0 {
            close(pipeDescriptors[1])
            let reader = pipeDescriptors[0]
            let done = teeDone
            let thread = Thread {
                Self.copy(from: reader, to: [log, 1])
                done.withLock { $0 = true }
            }
            thread.start()
            teeThread = thread
        }
        let status = ProcessLauncher.wait(pid: pid, block: true) ?? .exited(255)
        heartbeat.cancel()
        timeout?.cancel()
        if teeThread != nil {
            // The group may still hold the pipe's write end; wait for the copy to drain briefly.
            for _ in 0..<100 where teeDone.withLock({ !$0 }) { usleep(10_000) }
        }
        return status
    }

    private let teeDone = NSLockedFlag()

    /// Terminates the task's whole process group, then kills it if it lingers.
    func stop(reason: String) {
        lock.lock()
        if stopReason == nil { stopReason = reason }
        let pid = childPid
        lock.unlock()
        guard pid > 0 else { return }
        ProcessLauncher.signalGroup(pid, SIGTERM)
        DispatchQueue.global().asyncAfter(deadline: .now() + Self.killGrace) {
            ProcessLauncher.signalGroup(pid, SIGKILL)
        }
    }

    private func installSignalHandlers() {
        // SIGTERM/SIGINT to the worker stop the task but let the worker record why.
        for signalNumber in [SIGTERM, SIGINT] {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            source.setEventHandler { [weak self] in self?.stop(reason: "terminated by \(signalName(signalNumber)) (scheduler shutdown)") }
            source.resume()
            signalSources.append(source)
        }
    }

    private var signalSources: [DispatchSourceSignal] = []

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
        let folder = (spec.logPath as NSString).deletingLastPathComponent
        try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        return open(spec.logPath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o640)
    }

    func writeLog(_ fd: Int32, _ text: String) {
        let bytes = Array(text.utf8)
        if fd >= 0 { _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, bytes.count) } }
        if spec.tee { _ = bytes.withUnsafeBytes { write(1, $0.baseAddress, bytes.count) } }
    }

    /// Wakes the scheduler at once, rather than letting it find the outcome later.
    func wakeScheduler() {
        guard let text = try? String(contentsOfFile: spec.schedulerPidPath, encoding: .utf8),
              let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)),
              // The pid file outlives a killed scheduler: never signal whatever process reuses its pid.
              ProcessLauncher.programName(of: pid)?.hasSuffix("orchestrator") == true else { return }
        kill(pid, SIGUSR1)
    }

    static func stamp(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: date)
    }

    static func formatSeconds(_ seconds: Double) -> String {
        seconds == seconds.rounded() ? "\(Int(seconds))s" : String(format: "%.1fs", seconds)
    }
}

final class NSLockedFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    func withLock<T>(_ body: (inout Bool) -> T) -> T {
        lock.lock()
        defer { lock.unlock() }
        return body(&value)
    }
}
