import NIOCore

/// Closes a connection whose request head does not arrive within the timeout of its first byte, or whose body does
/// not arrive within the same timeout of its head (the idle timeout alone let a body sent a byte every 29 s hold a
/// connection for ever). It sits first in the pipeline, where it sees raw bytes; `RequestProgressHandler`, behind
/// the HTTP decoder, tells it when a head and a whole request have been read and when its response has ended
/// (outbound user events travel towards this end of the pipeline).
final class HeaderReadTimeoutHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = IOData
    typealias OutboundOut = IOData

    enum Progress {
        case headReceived
        case requestEnded
        case responseEnded
    }

    let timeout: TimeAmount
    private var awaitingHead = true
    private var deadline: Scheduled<Void>?

    init(timeout: TimeAmount) { self.timeout = timeout }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if awaitingHead && deadline == nil {
            deadline = context.eventLoop.assumeIsolated().scheduleTask(in: timeout) { context.close(promise: nil) }
        }
        context.fireChannelRead(data)
    }

    func triggerUserOutboundEvent(context: ChannelHandlerContext, event: Any, promise: EventLoopPromise<Void>?) {
        guard let progress = event as? Progress else {
            context.triggerUserOutboundEvent(event, promise: promise)
            return
        }
        switch progress {
        case .headReceived:
            awaitingHead = false
            cancelDeadline()
            // The body gets the same time from the head on; a request without one ends at once and cancels it.
            deadline = context.eventLoop.assumeIsolated().scheduleTask(in: timeout) { context.close(promise: nil) }
        case .requestEnded:
            cancelDeadline()
        case .responseEnded:
            awaitingHead = true
        }
        promise?.succeed()
    }

    func channelInactive(context: ChannelHandlerContext) {
        cancelDeadline()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) { cancelDeadline() }

    private func cancelDeadline() {
        deadline?.cancel()
        deadline = nil
    }
}

@available(*, unavailable)
extension HeaderReadTimeoutHandler: Sendable {}
