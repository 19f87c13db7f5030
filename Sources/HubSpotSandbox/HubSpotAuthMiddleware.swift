import Foundation
import Hummingbird
import SandboxKit

/// Accepts only `Authorization: Bearer` with the configured static token or a live OAuth access token on account-level
/// endpoints, and only the configured developer API key as `?hapikey=` on app-level ones (action definitions, see
/// `HubSpotScopes.isDeveloperEndpoint`), as HubSpot does; anything else is 401 `INVALID_AUTHENTICATION`, an expired
/// OAuth token 401 `EXPIRED_AUTHENTICATION`. A request needing a scope the token lacks is 403 `MISSING_SCOPES`.
///
/// Workflow-action callbacks (`/automation/v4/actions/callbacks/…`) take only a token of the app that owns the actions
/// (its static token, or an OAuth token issued to it) carrying `automation`; another app's token is 403. HubSpot's
/// docs say callbacks are authenticated "using OAuth tokens (for Marketplace apps) or static auth tokens (for
/// single-account apps)" and the ACT-v4 spec names the `automation` scope; the status HubSpot answers for another
/// app's token is undocumented: the sandbox's 403 is a choice (docs/hubspot-app.md, "OAuth installs").
struct HubSpotAuthMiddleware: RouterMiddleware {
    typealias Context = SandboxRequestContext

    let accessToken: String
    let developerAPIKey: String?
    /// The static token's scopes; `nil` grants every scope.
    let scopes: Set<String>?
    /// The OAuth tokens issued by the sandbox.
    let oauth: HubSpotOAuthServer
    /// The id of the app that owns the workflow actions (the sandbox's OAuth app); `nil` when it has none.
    let appID: Int?

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let path = request.uri.path
        if HubSpotScopes.isDeveloperEndpoint(path: path) {
            if let developerAPIKey, let key = request.uri.queryParameters["hapikey"], constantTimeEqual(String(key), developerAPIKey) {
                return try await next(request, context)
            }
            return HubSpotResponses.make(
                HubSpotError(
                    status: 401, category: "INVALID_AUTHENTICATION",
                    message: "Authentication credentials not found. This API supports the developer API key (hapikey) only."))
        }
        guard let header = request.headers[.authorization], header.hasPrefix("Bearer ") else {
            return Self.invalidAuthentication
        }
        let token = String(header.dropFirst("Bearer ".count))
        let granted: Set<String>?
        let isTheAppsToken: Bool
        if constantTimeEqual(token, accessToken) {
            granted = scopes
            isTheAppsToken = true
        } else {
            switch oauth.standing(ofAccessToken: token) {
            case .valid(let grant):
                granted = Set(grant.scopes)
                isTheAppsToken = grant.appID == appID
            case .expired(let since):
                let minutes = max(1, Int(since.components.seconds) / 60)
                return HubSpotResponses.make(
                    HubSpotError(
                        status: 401, category: "EXPIRED_AUTHENTICATION",
                        message: "The OAuth token used to make this call expired \(minutes) minute(s) ago."))
            case .revoked, .unknown:
                return Self.invalidAuthentication
            }
        }
        if let granted, let needed = HubSpotScopes.required(method: request.method.rawValue, path: path), !granted.contains(needed) {
            return HubSpotResponses.make(HubSpotScopes.missing(needed))
        }
        if Self.isCallback(path), !isTheAppsToken {
            return HubSpotResponses.make(
                HubSpotError(
                    status: 403, category: "FORBIDDEN",
                    message: "Workflow action callbacks must be completed with a token of the app that owns the action."))
        }
        return try await next(request, context)
    }

    /// Whether a path completes workflow-action callbacks.
    static func isCallback(_ path: String) -> Bool {
        path.hasPrefix("/automation/v4/actions/callbacks/")
    }

    static var invalidAuthentication: Response {
        HubSpotResponses.make(HubSpotError(status: 401, category: "INVALID_AUTHENTICATION", message: "Authentication credentials not found."))
    }

    private func constantTimeEqual(_ lhs: String, _ rhs: String) -> Bool {
        let left = Array(lhs.utf8)
        let right = Array(rhs.utf8)
        guard left.count == right.count else { return false }
        return zip(left, right).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }
}
