import Hummingbird
import SandboxKit

/// Accepts only `Authorization: Bearer <the configured token>` on account-level endpoints, and only the configured
/// developer API key as `?hapikey=` on app-level ones (action definitions, see `HubSpotScopes.isDeveloperEndpoint`),
/// as HubSpot does; anything else is 401 `INVALID_AUTHENTICATION`. When the token has a limited set of scopes, a
/// request needing another is 403 `MISSING_SCOPES`.
struct HubSpotAuthMiddleware: RouterMiddleware {
    typealias Context = SandboxRequestContext

    let accessToken: String
    let developerAPIKey: String?
    /// The token's scopes; `nil` grants every scope.
    let scopes: Set<String>?

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if HubSpotScopes.isDeveloperEndpoint(path: request.uri.path) {
            if let developerAPIKey, let key = request.uri.queryParameters["hapikey"], constantTimeEqual(String(key), developerAPIKey) {
                return try await next(request, context)
            }
            return HubSpotResponses.make(
                HubSpotError(
                    status: 401, category: "INVALID_AUTHENTICATION",
                    message: "Authentication credentials not found. This API supports the developer API key (hapikey) only."))
        }
        if let header = request.headers[.authorization], header.hasPrefix("Bearer "),
            constantTimeEqual(String(header.dropFirst("Bearer ".count)), accessToken)
        {
            if let scopes, let needed = HubSpotScopes.required(method: request.method.rawValue, path: request.uri.path),
                !scopes.contains(needed)
            {
                return HubSpotResponses.make(HubSpotScopes.missing(needed))
            }
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
