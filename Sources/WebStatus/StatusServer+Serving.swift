import Foundation
import Hummingbird
import HummingbirdCore
import Logging

/// Whether the server holds its port, and how often binding it has failed.
public struct BindStatus: Sendable, Equatable {
    public var port: Int?
    public var failures = 0
    public var lastError: String?
    /// Seconds until the next try while unbound.
    public var retryIn: Double?
}

extension StatusServer {
    /// The wait before bind try `failures + 1`: 1 s, doubling, at most 30 s.
    static func bindBackoff(afterFailures failures: Int) -> Double {
        min(30, pow(2, Double(max(0, min(failures, 16) - 1))))
    }

    public var bindStatus: BindStatus { lock.withLock { binding } }

    /// Starts serving on a task of its own and waits (up to `timeout`) for the first bind: returns the bound port, or
    /// nil when the port is busy. Then the server keeps trying on its own with backoff (logging each failure): a
    /// daemon whose port is held, by a stray process or the tasks of a killed predecessor, keeps scheduling and
    /// serves as soon as the port is free.
    public func start(timeout: Double = 10) -> Int? {
        Task.detached { [self] in await serve() }
        _ = started.wait(timeout: .now() + timeout)
        return bindStatus.port
    }

    func serve() async {
        while true {
            let app = makeApplication { [self] port in
                lock.withLock {
                    binding.port = port
                    binding.retryIn = nil
                }
                setup.log?(false, "web status listening", [("url", "http://\(setup.host.contains(":") ? "[\(setup.host)]" : setup.host):\(port)/")])
                signalFirstOutcome()
            }
            var message = "the server stopped"
            do {
                // The daemon handles SIGTERM itself (grace period for tasks); the server must not take the signal.
                try await app.runService(gracefulShutdownSignals: [])
            } catch {
                message = "\(error)"
            }
            let delay = lock.withLock { () -> Double in
                binding.port = nil
                binding.failures += 1
                binding.lastError = message
                let delay = Self.bindBackoff(afterFailures: binding.failures)
                binding.retryIn = delay
                return delay
            }
            setup.log?(true, "web status cannot listen; retrying", [("address", "\(setup.host):\(setup.port)"), ("error", message),
                                                                 ("retry_in", "\(Int(delay))s")])
            signalFirstOutcome()
            try? await Task.sleep(for: .seconds(delay))
        }
    }

    /// Wakes `start` once, at the first bind or the first failure.
    func signalFirstOutcome() {
        let first = lock.withLock { () -> Bool in
            defer { hasFirstOutcome = true }
            return !hasFirstOutcome
        }
        if first { started.signal() }
    }

    func makeApplication(onBound: @escaping @Sendable (Int) -> Void) -> some ApplicationProtocol {
        var logger = Logger(label: "orchestrator.web")
        logger.logLevel = .warning
        let router = Router()
        router.middlewares.add(RefusalMiddleware())
        // Always on: a LAN or wildcard address is as open to DNS rebinding as loopback.
        router.middlewares.add(HostCheckMiddleware(configuredHost: setup.host, allowedHosts: setup.limits.allowedHosts))
        pageRoutes(router)
        apiRoutes(router)
        actionRoutes(router)
        nodeLogRoutes(router)
        let limits = setup.limits
        return Application(
            router: router,
            server: HTTPServerBuilder { responder in GuardedHTTP1Channel(responder: responder, limits: limits) },
            configuration: .init(address: .hostname(setup.host, port: setup.port), serverName: "orchestrator",
                                 availableConnectionsDelegate: MaximumAvailableConnections(limits.maxConnections)),
            onServerRunning: { channel in onBound(channel.localAddress?.port ?? 0) }, logger: logger)
    }
}
