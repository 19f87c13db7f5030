import Foundation
import Synchronization

/// The sandbox's OAuth authorization server: authorization codes, refresh tokens and access tokens, each tied to the
/// portal that installed the app, the app and the granted scopes.
///
/// Tokens are random and opaque (HubSpot's are opaque too: clients must not parse them). Access tokens expire after
/// ``HubSpotSandbox/OAuthConfiguration/accessTokenLifetime``; refresh tokens never expire but can be revoked.
final class HubSpotOAuthServer: Sendable {
    /// What a code, a refresh token or an access token grants.
    struct Grant: Sendable, Equatable {
        var portalID: Int
        var appID: Int
        var scopes: [String]
        var userID: Int
    }

    struct Code: Sendable {
        var grant: Grant
        var clientID: String
        var redirectURI: String
        var expiresAt: Date
    }

    struct RefreshToken: Sendable {
        var grant: Grant
        var clientID: String
        var isRevoked = false
    }

    struct AccessToken: Sendable {
        var grant: Grant
        var clientID: String
        var expiresAt: Date
        var isRevoked = false
    }

    struct State: Sendable {
        var codes: [String: Code] = [:]
        var refreshTokens: [String: RefreshToken] = [:]
        var accessTokens: [String: AccessToken] = [:]
        /// The portal whose user "approves" the next authorizations; `nil`: the sandbox's own portal.
        var installingPortalID: Int?
        var codeExchanges = 0
        var refreshes = 0
        var accessTokenLifetime: Duration?
    }

    let state = Mutex(State())

    /// A token no one can guess: 32 random bytes, hex, with a prefix naming its kind and region as HubSpot's do.
    static func makeToken(_ prefix: String) -> String {
        var generator = SystemRandomNumberGenerator()
        return prefix + (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
    }

    /// How an access token presented as `Authorization: Bearer` stands.
    enum TokenStanding: Sendable {
        case valid(Grant)
        case expired(since: Duration)
        case revoked
        case unknown
    }

    func standing(ofAccessToken token: String, now: Date = Date()) -> TokenStanding {
        state.withLock { state in
            guard let access = state.accessTokens[token] else { return .unknown }
            if access.isRevoked { return .revoked }
            if access.expiresAt <= now {
                return .expired(since: .seconds(now.timeIntervalSince(access.expiresAt)))
            }
            return .valid(access.grant)
        }
    }

    func reset() {
        state.withLock { $0 = State() }
    }
}
