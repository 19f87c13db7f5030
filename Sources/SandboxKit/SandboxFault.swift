import Foundation

/// A failure a sandbox simulates instead of (or around) handling a request normally.
public enum SandboxFault: Sendable {
    /// Answer with this status, body and headers instead of handling the request (the request is not applied).
    case status(Int, body: Data? = nil, headers: [(String, String)] = [])
    /// Wait this long, then handle the request normally.
    case latency(Duration)
    /// Hold the request this long (long enough for the client to time out), then answer 504 without applying it.
    case timeout(Duration)
    /// Close the connection without a complete response. With `afterHandling: true` the request is applied to the
    /// sandbox's state first ("the request may or may not have been applied"); with `false` it is not applied.
    case dropConnection(afterHandling: Bool)
}

/// Thrown (after the connection is closed) when a ``SandboxFault/dropConnection(afterHandling:)`` fault fires, so no
/// response is written.
public struct SandboxConnectionDropped: Error, CustomStringConvertible {
    /// A short explanation for logs and test failures.
    public var description: String { "the sandbox dropped the connection (injected fault)" }
}
