import Foundation
import HTTPTypes
import Hummingbird
import SandboxKit

// MARK: - Configuration and inspection

extension HubSpotSandbox {
    /// The sandbox's OAuth app: the client HubSignal installs with `/oauth/authorize` and `/oauth/v3/token`.
    ///
    /// The sandbox hosts one app, the owner of the workflow actions: its static auth token is
    /// ``Configuration/accessToken`` and its OAuth client is this one. Callbacks accept only that app's tokens.
    public struct OAuthConfiguration: Sendable {
        /// The app's client id.
        public var clientID: String
        /// The app's client secret.
        public var clientSecret: String
        /// The app's id (`app_id` in token metadata).
        public var appID: Int
        /// The redirect URLs the app allows; an authorization with another `redirect_uri` is refused.
        public var redirectURLs: [String]
        /// How long an access token lives (HubSpot: 30 minutes).
        public var accessTokenLifetime: Duration
        /// The id of the user who approves installs (`user_id`).
        public var userID: Int

        public init(
            clientID: String, clientSecret: String, appID: Int = 4_242_001, redirectURLs: [String],
            accessTokenLifetime: Duration = .seconds(1800), userID: Int = 7_700_001
        ) {
            self.clientID = clientID
            self.clientSecret = clientSecret
            self.appID = appID
            self.redirectURLs = redirectURLs
            self.accessTokenLifetime = accessTokenLifetime
            self.userID = userID
        }
    }

    /// The portal whose user approves the coming authorizations (the sandbox's own portal by default): set another to
    /// play an install from a second HubSpot account.
    public var oauthInstallingPortalID: Int {
        get { oauth.state.withLock { $0.installingPortalID } ?? configuration.portalID }
        set { oauth.state.withLock { $0.installingPortalID = newValue } }
    }

    /// How many authorization codes were exchanged for tokens.
    public var oauthCodeExchanges: Int { oauth.state.withLock { $0.codeExchanges } }

    /// How many `refresh_token` grants issued a new access token.
    public var oauthRefreshes: Int { oauth.state.withLock { $0.refreshes } }

    /// Every refresh token issued, revoked or not (tests look for them where they must not be).
    public var oauthRefreshTokens: [String] { oauth.state.withLock { Array($0.refreshTokens.keys) } }

    /// Every access token issued, expired or not.
    public var oauthAccessTokens: [String] { oauth.state.withLock { Array($0.accessTokens.keys) } }

    /// Revokes a refresh token (an uninstall): refreshing with it then fails with `invalid_grant`, and the access
    /// tokens issued from it are refused.
    public func revokeOAuthRefreshToken(_ token: String) {
        oauth.state.withLock { state in
            guard let grant = state.refreshTokens[token]?.grant else { return }
            state.refreshTokens[token]?.isRevoked = true
            for (key, access) in state.accessTokens where access.grant == grant {
                state.accessTokens[key]?.isRevoked = true
            }
        }
    }

    /// Makes every access token issued so far expired (as if their 30 minutes had passed).
    public func expireOAuthAccessTokens() {
        oauth.state.withLock { state in
            for key in state.accessTokens.keys {
                state.accessTokens[key]?.expiresAt = Date(timeIntervalSinceNow: -1)
            }
        }
    }

    /// Changes the lifetime of the access tokens issued from now on.
    public func setOAuthAccessTokenLifetime(_ lifetime: Duration) {
        oauth.state.withLock { $0.accessTokenLifetime = lifetime }
    }

    /// Issues an access token directly, as if app `appID` were installed in this portal with `scopes` (e.g. another
    /// app's token, which account-level endpoints accept and workflow-action callbacks refuse).
    public func issueOAuthAccessToken(appID: Int, scopes: [String], lifetime: Duration = .seconds(1800)) -> String {
        let token = HubSpotOAuthServer.makeToken("sandbox-oauth-access-")
        let grant = HubSpotOAuthServer.Grant(portalID: configuration.portalID, appID: appID, scopes: scopes, userID: 1)
        oauth.state.withLock {
            $0.accessTokens[token] = .init(grant: grant, clientID: "client-of-app-\(appID)", expiresAt: Date().addingTimeInterval(lifetime.seconds))
        }
        return token
    }
}

extension Duration {
    /// The duration in seconds, with fractions.
    var seconds: TimeInterval {
        let (seconds, attoseconds) = components
        return TimeInterval(seconds) + TimeInterval(attoseconds) / 1e18
    }
}

// MARK: - Endpoints

/// HubSpot's OAuth endpoints: `GET /oauth/authorize` (the user approves at once and is redirected with a code),
/// `POST /oauth/v3/token` (`authorization_code` and `refresh_token` grants) and `POST /oauth/v3/token/introspect`.
///
/// As HubSpot's v3 endpoints require, parameters are read from an `application/x-www-form-urlencoded` body only: a
/// client id or secret in the query is refused. Errors carry RFC 6749's `error` / `error_description` next to
/// HubSpot's `status`, `message`, `correlationId` and `category` (HubSpot's changelog "New OAuth v3 API endpoints and
/// standardized error responses"). v1 endpoints (`/oauth/v1/…`) answer 404: HubSignal must not use them.
struct HubSpotOAuthMiddleware: RouterMiddleware {
    typealias Context = SandboxRequestContext

    let configuration: HubSpotSandbox.OAuthConfiguration?
    let sandboxPortalID: Int
    let server: HubSpotOAuthServer

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let path = request.uri.path
        guard path.hasPrefix("/oauth/") else { return try await next(request, context) }
        guard let configuration else {
            return HubSpotResponses.make(.notFound("This sandbox has no OAuth app"))
        }
        switch (request.method, path) {
        case (.get, "/oauth/authorize"):
            return authorize(HubSpotSandbox.query(request.uri.query), configuration: configuration)
        case (.post, "/oauth/v3/token"), (.post, "/oauth/v3/token/introspect"):
            let query = HubSpotSandbox.query(request.uri.query)
            if query["client_secret"] != nil || query["refresh_token"] != nil || query["code"] != nil {
                return Self.oauthError(400, "invalid_request", "The v3 endpoints take their parameters in the form body, not the query")
            }
            guard request.headers[.contentType]?.lowercased().hasPrefix("application/x-www-form-urlencoded") == true else {
                return Self.oauthError(400, "invalid_request", "Content-Type must be application/x-www-form-urlencoded")
            }
            let buffer = try await request.body.collect(upTo: 64 * 1024)
            let form = Self.form(String(buffer: buffer))
            guard form["client_id"] == configuration.clientID, form["client_secret"] == configuration.clientSecret else {
                return Self.oauthError(401, "invalid_client", "Client authentication failed", category: "INVALID_AUTHENTICATION")
            }
            return path == "/oauth/v3/token" ? token(form, configuration: configuration) : introspect(form)
        default:
            return HubSpotResponses.make(.notFound("No endpoint for \(request.method.rawValue) \(path)"))
        }
    }

    /// The user approves at once: `302` to `redirect_uri?code=…&state=…` (HubSpot's consent screen, skipped).
    func authorize(_ query: [String: String], configuration: HubSpotSandbox.OAuthConfiguration) -> Response {
        guard query["client_id"] == configuration.clientID else {
            return Self.page(400, "Unknown client_id: this app does not exist.")
        }
        guard let redirectURI = query["redirect_uri"], configuration.redirectURLs.contains(redirectURI) else {
            return Self.page(400, "redirect_uri does not match any of the app's redirect URLs.")
        }
        let scopes = (query["scope"] ?? "").split(whereSeparator: { $0 == " " || $0 == "+" }).map(String.init)
        guard !scopes.isEmpty else {
            return Self.page(400, "The authorize URL names no scope.")
        }
        let optional = (query["optional_scope"] ?? "").split(whereSeparator: { $0 == " " || $0 == "+" }).map(String.init)
        let code = HubSpotOAuthServer.makeToken("sandbox-code-")
        let portal = server.state.withLock { $0.installingPortalID } ?? sandboxPortalID
        let grant = HubSpotOAuthServer.Grant(
            portalID: portal, appID: configuration.appID, scopes: Array(Set(scopes + optional)).sorted(), userID: configuration.userID)
        server.state.withLock {
            $0.codes[code] = .init(
                grant: grant, clientID: configuration.clientID, redirectURI: redirectURI, expiresAt: Date().addingTimeInterval(600))
        }
        var components = URLComponents(string: redirectURI)
        let existing = components?.queryItems ?? []
        components?.queryItems = existing + [URLQueryItem(name: "code", value: code)]
            + (query["state"].map { [URLQueryItem(name: "state", value: $0)] } ?? [])
        var headers = HTTPFields()
        headers[.location] = components?.string ?? redirectURI
        return Response(status: .found, headers: headers)
    }

    /// `POST /oauth/v3/token`.
    func token(_ form: [String: String], configuration: HubSpotSandbox.OAuthConfiguration) -> Response {
        let now = Date()
        let issued: (access: String, refresh: String, grant: HubSpotOAuthServer.Grant, lifetime: Duration)
        switch form["grant_type"] {
        case "authorization_code":
            guard let code = form["code"] else { return Self.oauthError(400, "invalid_request", "code is missing") }
            let result: Result<(HubSpotOAuthServer.Grant, String), HubSpotOAuthMiddleware.Refusal> = server.state.withLock { state in
                // A code is used once: it is gone whether the exchange succeeds or not.
                guard let stored = state.codes.removeValue(forKey: code), stored.expiresAt > now else {
                    return .failure(.init(error: "invalid_grant", description: "The authorization code is invalid, expired or used"))
                }
                guard stored.redirectURI == form["redirect_uri"] else {
                    return .failure(.init(error: "invalid_grant", description: "redirect_uri does not match the authorization's"))
                }
                let refresh = HubSpotOAuthServer.makeToken("sandbox-oauth-refresh-")
                state.refreshTokens[refresh] = .init(grant: stored.grant, clientID: stored.clientID)
                state.codeExchanges += 1
                return .success((stored.grant, refresh))
            }
            switch result {
            case .failure(let refusal): return Self.oauthError(400, refusal.error, refusal.description)
            case .success(let (grant, refresh)):
                issued = (HubSpotOAuthServer.makeToken("sandbox-oauth-access-"), refresh, grant, lifetime(configuration))
            }
        case "refresh_token":
            guard let refresh = form["refresh_token"] else { return Self.oauthError(400, "invalid_request", "refresh_token is missing") }
            let grant: HubSpotOAuthServer.Grant? = server.state.withLock { state in
                guard let stored = state.refreshTokens[refresh], !stored.isRevoked else { return nil }
                state.refreshes += 1
                return stored.grant
            }
            guard let grant else {
                return Self.oauthError(400, "invalid_grant", "The refresh token is invalid or revoked", subCategory: "BAD_REFRESH_TOKEN")
            }
            issued = (HubSpotOAuthServer.makeToken("sandbox-oauth-access-"), refresh, grant, lifetime(configuration))
        case nil:
            return Self.oauthError(400, "invalid_request", "grant_type is missing")
        case let other?:
            return Self.oauthError(400, "unsupported_grant_type", "grant_type \(other) is not supported here")
        }
        server.state.withLock {
            $0.accessTokens[issued.access] = .init(
                grant: issued.grant, clientID: configuration.clientID, expiresAt: now.addingTimeInterval(issued.lifetime.seconds))
        }
        let body: JSON = [
            "access_token": .string(issued.access), "refresh_token": .string(issued.refresh),
            "expires_in": .int(Int(issued.lifetime.seconds)), "token_type": "bearer", "token_use": "access_token",
            "hub_id": .int(issued.grant.portalID), "user_id": .int(issued.grant.userID),
            "scopes": .array(issued.grant.scopes.map { .string($0) }),
        ]
        return HubSpotResponses.make(status: 200, body: body)
    }

    private func lifetime(_ configuration: HubSpotSandbox.OAuthConfiguration) -> Duration {
        server.state.withLock { $0.accessTokenLifetime } ?? configuration.accessTokenLifetime
    }

    /// `POST /oauth/v3/token/introspect`: an access token's or refresh token's metadata; an unknown, expired or revoked
    /// token is `{"active":false}` (RFC 7662 §2.2; HubSpot's spec does not describe inactive tokens).
    func introspect(_ form: [String: String]) -> Response {
        guard let token = form["token"] else { return Self.oauthError(400, "invalid_request", "token is missing") }
        let now = Date()
        let found: (HubSpotOAuthServer.Grant, String, Date?)? = server.state.withLock { state in
            if let access = state.accessTokens[token], !access.isRevoked, access.expiresAt > now {
                return (access.grant, access.clientID, access.expiresAt)
            }
            if let refresh = state.refreshTokens[token], !refresh.isRevoked {
                return (refresh.grant, refresh.clientID, nil)
            }
            return nil
        }
        guard let (grant, clientID, expiresAt) = found else {
            return HubSpotResponses.make(status: 200, body: ["active": false])
        }
        var body: JSONObject = [
            "active": true, "hub_id": .int(grant.portalID), "app_id": .int(grant.appID), "user_id": .int(grant.userID),
            "client_id": .string(clientID), "scopes": .array(grant.scopes.map { .string($0) }), "token": .string(token),
            "token_type": "bearer", "token_use": expiresAt == nil ? "refresh_token" : "access_token",
        ]
        if let expiresAt {
            body["expires_in"] = .int(Int(expiresAt.timeIntervalSince(now)))
            body["is_private_distribution"] = false
        }
        return HubSpotResponses.make(status: 200, body: .object(body))
    }

    struct Refusal: Error {
        var error: String
        var description: String
    }

    /// An RFC 6749 error in HubSpot's error shape.
    static func oauthError(
        _ status: Int, _ error: String, _ description: String, category: String = "VALIDATION_ERROR", subCategory: String? = nil
    ) -> Response {
        var failure = HubSpotError(status: status, category: category, message: description, subCategory: subCategory)
        failure.extra = ["error": .string(error), "error_description": .string(description)]
        return HubSpotResponses.make(failure)
    }

    /// A small HTML page, as HubSpot's authorize screen answers a broken install link.
    static func page(_ status: Int, _ message: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/html; charset=utf-8"
        let html = "<!doctype html><title>HubSpot</title><p>\(message)</p>"
        return Response(status: .init(code: status), headers: headers, body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    /// An `application/x-www-form-urlencoded` body's fields (`+` is a space).
    static func form(_ text: String) -> [String: String] {
        var fields: [String: String] = [:]
        for pair in text.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1).map {
                $0.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String($0)
            }
            guard let name = parts.first else { continue }
            fields[name] = parts.count > 1 ? parts[1] : ""
        }
        return fields
    }
}
