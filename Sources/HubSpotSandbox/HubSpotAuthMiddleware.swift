import Hummingbird
import SandboxKit

/// Accepts only `Authorization: Bearer <the configured token>` (or, when configured, a developer `?hapikey=`);
/// anything else is 401 `INVALID_AUTHENTICATION`.
struct HubSpotAuthMiddleware: RouterMiddleware {
    typealias Context = SandboxRequestContext

    let accessToken: String
    let developerAPIKey: String?

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if let header = request.headers[.authorization], header.hasPrefix("Bearer "),
            constantTimeEqual(String(header.dropFirst("Bearer ".count)), accessToken)
        {
            return try await next(request, context)
        }
        if let developerAPIKey, let key = request.uri.queryParameters["hapikey"], constantTimeEqual(String(key), developerAPIKey) {
            return try await next(request, context)
        }
        return HubSpotResponses.make(
            HubSpotError(status: 401, category: "INVALID_AUTHENTICATION", message: "Authentication credentials not found."))
    }

    private func constantTimeEqual(_ lhs: String, _ rhs: String) -> Bool {
        let left = Array(lhs.utf8)
        let right = Array(rhs.utf8)
        guard left.count == right.count else { return false }
        return zip(left, right).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }
}
