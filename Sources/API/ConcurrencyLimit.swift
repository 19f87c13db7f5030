import HTTPTypes
import Hummingbird
import Ingestion
import Synchronization

/// Answers `503` with `Retry-After` to requests beyond `maximumRequests` handled at once, before their bodies are read.
///
/// Every request counts from the moment its head is read until its handler returns (reading the body, parsing it and
/// storing it), so the memory and the database work in flight stay bounded whatever the number of clients. `/healthz`
/// is exempt: a busy process is still alive.
public struct ConcurrencyLimit<Context: RequestContext>: RouterMiddleware {
    /// How many seconds clients are told to wait (`Retry-After`).
    public static var retryAfterSeconds: Int { 1 }

    let maximumRequests: Int
    let inFlight: InFlightCount

    /// - Parameter maximumRequests: how many requests may be handled at once; at least 1.
    public init(maximumRequests: Int) {
        precondition(maximumRequests > 0, "the limit of concurrent requests must be positive")
        self.maximumRequests = maximumRequests
        self.inFlight = InFlightCount()
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if request.uri.path == "/healthz" { return try await next(request, context) }
        let count = inFlight.value.add(1, ordering: .relaxed).newValue
        defer { inFlight.value.subtract(1, ordering: .relaxed) }
        guard count <= maximumRequests else {
            return JSONResponse.error(
                IngestionError(
                    status: 503, code: "busy",
                    message: "the server is handling \(maximumRequests) requests already; nothing was read or stored; retry later"),
                headers: [.retryAfter: "\(Self.retryAfterSeconds)"])
        }
        return try await next(request, context)
    }
}

/// The number of requests being handled.
final class InFlightCount: Sendable {
    let value = Atomic<Int>(0)
}
