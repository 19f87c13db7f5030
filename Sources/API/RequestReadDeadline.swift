import Logging
import NIOCore
import NIOHTTPTypes

/// Closes a connection whose request takes longer than `timeout` to arrive, from its head to the end of its body.
///
/// The idle timeout of the HTTP server closes connections on which nothing arrives; this closes the ones on which a
/// body trickles in a byte at a time, which an idle timeout never sees as idle. The clock starts when a request's head
/// has been read and stops when its body has; handling the request after that (storing it) is not limited. The
/// connection is closed without an answer: a client that sends this slowly is not waiting for one.
///
/// Add one instance per connection (`HTTP1Channel.Configuration.additionalChannelHandlers`).
public final class RequestReadDeadline: ChannelInboundHandler, RemovableChannelHandler {
    public typealias InboundIn = HTTPRequestPart
    public typealias InboundOut = HTTPRequestPart

    let timeout: TimeAmount
    let logger: Logger
    private var deadline: Scheduled<Void>?

    /// - Parameters:
    ///   - timeout: how long a request's head and body may take to arrive.
    ///   - logger: where a closed connection is logged (at `info`).
    public init(timeout: TimeAmount, logger: Logger) {
        self.timeout = timeout
        self.logger = logger
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            cancel()
            let path = head.path ?? ""
            let loop = context.eventLoop.assumeIsolated()
            deadline = loop.scheduleTask(in: timeout) { [self] in
                deadline = nil
                logger.info(
                    "closed a connection whose request did not arrive in time",
                    metadata: ["http.path": "\(path.prefix(200))", "http.request_timeout_ms": "\(timeout.nanoseconds / 1_000_000)"])
                context.close(promise: nil)
            }
        case .body:
            break
        case .end:
            cancel()
        }
        context.fireChannelRead(data)
    }

    public func channelInactive(context: ChannelHandlerContext) {
        cancel()
        context.fireChannelInactive()
    }

    public func handlerRemoved(context: ChannelHandlerContext) {
        cancel()
    }

    private func cancel() {
        deadline?.cancel()
        deadline = nil
    }
}

@available(*, unavailable)
extension RequestReadDeadline: Sendable {}
