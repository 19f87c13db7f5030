import HTTPTypes
import Hummingbird
import Ingestion
import Synchronization

/// Answers `503` with `Retry-After` to requests beyond `maximumRequests` handled at once, before their bodies are read.
///
/// Every request counts from the moment its head is read until its handler returns (reading the body, parsing it and
/// storing it), so the memory and the database work in flight stay bounded whatever the number of clients. `/healthz`
/// is exempt: a busy process is still alive. So are CORS preflights (`OPTIONS` with an `Origin`): they read and store
/// nothing, and a refused preflight would be a network error to the page. A page of an origin that `cors` allows can
/// read the `503` and its `Retry-After`, so the SDK retries it as the busy answer it is.
public struct ConcurrencyLimit<Context: RequestContext>: RouterMiddleware {
    /// How many seconds clients are told to wait (`Retry-After`).
    public static var retryAfterSeconds: Int { 1 }

    let maximumRequests: Int
    let cors: CORSPolicy
    let inFlight: InFlightCount

    /// - Parameters:
    ///   - maximumRequests: how many requests may be handled at once; at least 1.
    ///   - cors: the browser keys' origins, whose pages may read the `503`; by default none.
    public init(maximumRequests: Int, cors: CORSPolicy = .none) {
        precondition(maximumRequests > 0, "the limit of concurrent requests must be positive")
        self.maximumRequests = maximumRequests
        self.cors = cors
        self.inFlight = InFlightCount()
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if request.uri.path == "/healthz" { return try await next(request, context) }
        let origin = request.headers[.origin]
        if request.method == .options, origin != nil { return try await next(request, context) }
        let count = inFlight.value.add(1, ordering: .relaxed).newValue
        defer { inFlight.value.subtract(1, ordering: .relaxed) }
        guard count <= maximumRequests else {
            return JSONResponse.error(
                IngestionError(
                    status: 503, code: "busy",
                    message: "the server is handling \(maximumRequests) requests already; nothing was read or stored; retry later"),
                headers: busyHeaders(origin: origin))
        }
        return try await next(request, context)
    }

    /// `Retry-After`, and the CORS headers when a page of an allowed origin asked (the key is not read yet: any key's
    /// origins count, as for every answer given before the key is known).
    func busyHeaders(origin: String?) -> HTTPFields {
        var headers: HTTPFields = [.retryAfter: "\(Self.retryAfterSeconds)"]
        if let origin, cors.allowsSomeKey(origin) { headers.append(contentsOf: CORSPolicy.responseHeaders(origin: origin)) }
        return headers
    }
}

/// The number of requests being handled.
final class InFlightCount: Sendable {
    let value = Atomic<Int>(0)
}
