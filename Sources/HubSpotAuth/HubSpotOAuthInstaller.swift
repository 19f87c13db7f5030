import Foundation
import HubSpot
import Logging

/// The OAuth install flow: the authorize URL with a signed `state`, then the callback's code exchanged for tokens,
/// the portal read from the token's metadata, and the installation stored (or refused for a second portal).
public struct HubSpotOAuthInstaller: Sendable {
    /// What the flow needs besides the token client.
    public struct Configuration: Sendable {
        /// HubSpot's authorize page (`https://app.hubspot.com/oauth/authorize`; a sandbox's in tests).
        public var authorizeURL: String
        /// The scopes the install asks for (``HubSpotOAuthInstaller/requiredScopes``).
        public var scopes: [String]
        /// Scopes the portal may decline (`optional_scope`).
        public var optionalScopes: [String]
        /// The only portal accepted (`HUBSPOT_PORTAL_ID`); `nil`: the first install binds one.
        public var portalID: String?
        /// How long an install link's `state` stays valid (default 10 minutes).
        public var stateLifetime: Duration

        public init(
            authorizeURL: String = "https://app.hubspot.com/oauth/authorize", scopes: [String] = HubSpotOAuthInstaller.requiredScopes,
            optionalScopes: [String] = HubSpotOAuthInstaller.optionalScopes, portalID: String? = nil, stateLifetime: Duration = .seconds(600)
        ) {
            self.authorizeURL = authorizeURL
            self.scopes = scopes
            self.optionalScopes = optionalScopes
            self.portalID = portalID
            self.stateLifetime = stateLifetime
        }
    }

    /// How a callback ended.
    public enum Outcome: Sendable, Equatable {
        /// The portal is installed; HubSignal holds its tokens.
        case installed(portalID: String, scopes: [String])
        /// Another portal is bound (by an earlier install or `HUBSPOT_PORTAL_ID`): nothing was stored.
        case otherPortal(portalID: String, boundPortalID: String)
        /// The `state` is missing, forged, expired, or was issued to another browser.
        case invalidState(String)
        /// The user declined, or HubSpot answered the authorization with an error.
        case denied(String)
        /// Exchanging the code or reading the token's metadata failed.
        case failed(String)
    }

    /// The scopes every install must grant: the OAuth app project's required scopes (`oauth` among them), sorted.
    public static var requiredScopes: [String] {
        HubSpotAppScopes.forAuthentication(.oauth).required.map(\.rawValue)
    }

    /// The scopes an install grants when the portal's plan has their features (`optional_scope`), sorted.
    public static var optionalScopes: [String] {
        HubSpotAppScopes.forAuthentication(.oauth).optional.map(\.rawValue)
    }

    /// The authorize page, scopes, bound portal and state lifetime.
    public let configuration: Configuration
    private let oauth: HubSpotOAuthClient
    private let installations: HubSpotInstallations
    private let state: HubSpotOAuthState
    private let logger: Logger

    /// An installer whose `state` is signed with a key derived from `installations`' token key.
    public init(configuration: Configuration, oauth: HubSpotOAuthClient, installations: HubSpotInstallations, logger: Logger) {
        self.configuration = configuration
        self.oauth = oauth
        self.installations = installations
        self.state = HubSpotOAuthState(key: installations.cipher.stateKey, lifetime: configuration.stateLifetime)
        self.logger = logger
    }

    /// The authorize URL to redirect the browser to, and the nonce to set in its cookie (the callback checks both).
    public func start(now: Date = Date()) -> (url: String, nonce: String) {
        let (state, nonce) = self.state.make(now: now)
        var components = URLComponents(string: configuration.authorizeURL)
        var items = components?.queryItems ?? []
        items.append(URLQueryItem(name: "client_id", value: oauth.configuration.clientID))
        items.append(URLQueryItem(name: "scope", value: configuration.scopes.joined(separator: " ")))
        if !configuration.optionalScopes.isEmpty {
            items.append(URLQueryItem(name: "optional_scope", value: configuration.optionalScopes.joined(separator: " ")))
        }
        items.append(URLQueryItem(name: "redirect_uri", value: oauth.configuration.redirectURI))
        items.append(URLQueryItem(name: "state", value: state))
        components?.queryItems = items
        // URLComponents leaves `+` and `:` `/` as they are; HubSpot reads `+` in a query as a space, so encode it.
        let query = components?.percentEncodedQuery?.replacingOccurrences(of: "+", with: "%2B")
        components?.percentEncodedQuery = query
        return (components?.string ?? configuration.authorizeURL, nonce)
    }

    /// Completes an install from the callback's query (`code`, `state`, or `error`) and the browser's cookie nonce.
    public func complete(code: String?, state: String?, error: String?, cookieNonce: String?, now: Date = Date()) async -> Outcome {
        if let refusal = self.state.refusal(of: state, cookieNonce: cookieNonce, now: now) {
            logger.warning("HubSpot OAuth callback refused: bad state", metadata: ["reason": "\(refusal)"])
            switch refusal {
            case .forged: return .invalidState("the install link's state is missing or was not issued by this HubSignal")
            case .expired: return .invalidState("the install link expired: start again")
            case .otherBrowser: return .invalidState("the install was started in another browser: start again from this one")
            }
        }
        if let error { return .denied(error) }
        guard let code, !code.isEmpty else { return .denied("HubSpot sent no authorization code") }
        do {
            let tokens = try await oauth.exchange(code: code)
            let info = try await oauth.introspect(accessToken: tokens.accessToken)
            guard info.active, let portalID = info.hubID ?? tokens.hubID else {
                return .failed("HubSpot's token metadata names no portal")
            }
            if let configured = configuration.portalID, configured != portalID {
                logger.warning(
                    "HubSpot install from another portal refused", metadata: ["hubspot.portal": "\(portalID)", "hubspot.bound": "\(configured)"])
                return .otherPortal(portalID: portalID, boundPortalID: configured)
            }
            let scopes = info.scopes.isEmpty ? tokens.scopes ?? [] : info.scopes
            let outcome = try await installations.install(
                tokens, portalID: portalID, appID: info.appID, userID: info.userID ?? tokens.userID, scopes: scopes, now: now)
            switch outcome {
            case .installed(let installation):
                logger.notice(
                    "HubSpot app installed", metadata: ["hubspot.portal": "\(portalID)", "scopes": "\(installation.scopes.count)"])
                return .installed(portalID: portalID, scopes: installation.scopes)
            case .boundToAnotherPortal(let bound):
                logger.warning(
                    "HubSpot install from another portal refused", metadata: ["hubspot.portal": "\(portalID)", "hubspot.bound": "\(bound)"])
                return .otherPortal(portalID: portalID, boundPortalID: bound)
            }
        } catch let error as HubSpotOAuthError {
            logger.warning("HubSpot OAuth install failed", metadata: ["error": "\(error)"])
            return .failed(
                error.code == .invalidGrant
                    ? "the authorization code was refused (used or expired): start again" : "HubSpot's token endpoint failed (\(error.code))")
        } catch {
            logger.error("HubSpot OAuth install failed", metadata: ["error": "\(type(of: error))"])
            return .failed("storing the installation failed")
        }
    }
}
