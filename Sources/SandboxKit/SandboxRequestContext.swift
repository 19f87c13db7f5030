import Hummingbird
import NIOCore

/// The request context every sandbox router uses: Hummingbird's core context plus the connection's channel, so that a
/// fault can close the connection instead of answering.
public struct SandboxRequestContext: RequestContext {
    /// Hummingbird's per-request storage (logger, parameters, …).
    public var coreContext: CoreRequestContextStorage
    /// The connection the request arrived on.
    public let channel: any Channel

    /// Creates the context for a request received by ``SandboxServer``.
    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.channel = source.channel
    }

    /// Sandboxes accept bodies of up to 16 MiB.
    public var maxUploadSize: Int { 16 * 1024 * 1024 }
}
