import NIOCore
import NIOHTTPTypes

/// Behind the HTTP decoder: reports each request head and request end read, and each response ended, to
/// `HeaderReadTimeoutHandler`.
final class RequestProgressHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head: context.triggerUserOutboundEvent(HeaderReadTimeoutHandler.Progress.headReceived, promise: nil)
        case .end: context.triggerUserOutboundEvent(HeaderReadTimeoutHandler.Progress.requestEnded, promise: nil)
        case .body: break
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let isEnd = if case .end = unwrapOutboundIn(data) { true } else { false }
        context.write(data, promise: promise)
        if isEnd { context.triggerUserOutboundEvent(HeaderReadTimeoutHandler.Progress.responseEnded, promise: nil) }
    }
}

@available(*, unavailable)
extension RequestProgressHandler: Sendable {}
