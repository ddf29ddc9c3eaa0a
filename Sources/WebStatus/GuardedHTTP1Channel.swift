import HummingbirdCore
import Logging
import NIOCore

/// Hummingbird's HTTP/1 child channel with the header read timeout in front of it (idle timeout and connection cap
/// are Hummingbird's own: `HTTP1Channel.Configuration.idleTimeout`, `ServerConfiguration.availableConnectionsDelegate`).
struct GuardedHTTP1Channel: ServerChildChannel {
    typealias Value = HTTP1Channel.Value
    let http1: HTTP1Channel
    let headerTimeout: TimeAmount

    init(responder: @escaping HTTPChannelHandler.Responder, limits: WebLimits) {
        http1 = HTTP1Channel(responder: responder, configuration: .init(
            additionalChannelHandlers: [RequestProgressHandler()], idleTimeout: .nanoseconds(Int64(limits.idleTimeout * 1e9))))
        headerTimeout = .nanoseconds(Int64(limits.headerTimeout * 1e9))
    }

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandler(HeaderReadTimeoutHandler(timeout: headerTimeout))
        }.flatMap { [http1] in http1.setup(channel: channel, logger: logger) }
    }

    func handle(value: Value, logger: Logger) async {
        await http1.handle(value: value, logger: logger)
    }
}
