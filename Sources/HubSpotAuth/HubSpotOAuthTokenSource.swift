import Foundation
import HubSpot
import Logging
import PQ
import Synchronization

/// The access tokens of the OAuth installation, for ``HubSpotClient``: kept in memory until they are due for a
/// refresh, refreshed one at a time across processes, and shared through `hubspot_installations`.
///
/// A refresh locks the installation's row (`SELECT … FOR UPDATE`), so a second process (or task) waits for the first
/// one's refresh, then finds the new token in the row and uses it instead of refreshing again. Errors are
/// `HubSpotError`s, so the syncs treat a missing install or a revoked refresh token like a refused call: `.unauthorized`
/// (install the app), `.server` (HubSpot's token endpoint failed: try later).
public final class HubSpotOAuthTokenSource: HubSpotAccessTokenSource {
    private struct Cached {
        var token: String
        var refreshAt: Date
    }

    private let installations: HubSpotInstallations
    private let oauth: HubSpotOAuthClient
    private let logger: Logger
    private let cached = Mutex<Cached?>(nil)

    /// Tokens of the installation in `installations`, refreshed through `oauth`.
    public init(installations: HubSpotInstallations, oauth: HubSpotOAuthClient, logger: Logger) {
        self.installations = installations
        self.oauth = oauth
        self.logger = logger
    }

    public func accessToken() async throws -> String {
        if let cached = cached.withLock({ $0 }), cached.refreshAt > Date() {
            return cached.token
        }
        return try await refresh(rejecting: nil)
    }

    public func refreshedAccessToken(rejecting rejected: String) async throws -> String {
        try await refresh(rejecting: rejected)
    }

    /// Takes the row's token when it is not due and is not `rejected`; else refreshes it, under the row's lock.
    private func refresh(rejecting rejected: String?) async throws -> String {
        do {
            let fresh = try await installations.client.withTransaction { connection -> Cached in
                guard let stored = try await installations.lockTokens(on: connection) else {
                    throw HubSpotOAuthError(
                        code: .notInstalled, message: "the HubSpot app is not installed: open HUBSIGNAL_PUBLIC_URL/hubspot/oauth/install")
                }
                if stored.refreshAt > Date(), stored.accessToken != rejected {
                    return Cached(token: stored.accessToken, refreshAt: stored.refreshAt)
                }
                let tokens = try await oauth.refresh(refreshToken: stored.refreshToken)
                let (_, refreshAt) = try await installations.storeRefreshed(tokens, portalID: stored.portalID, on: connection)
                logger.info(
                    "HubSpot access token refreshed",
                    metadata: ["hubspot.portal": "\(stored.portalID)", "reason": "\(rejected == nil ? "due" : "rejected")"])
                return Cached(token: tokens.accessToken, refreshAt: refreshAt)
            }
            cached.withLock { $0 = fresh }
            return fresh.token
        } catch let error as HubSpotOAuthError {
            cached.withLock { $0 = nil }
            throw Self.hubSpotError(error)
        }
    }

    /// The client's error for an OAuth failure: `.unauthorized` when only a new install helps, else retryable.
    static func hubSpotError(_ error: HubSpotOAuthError) -> HubSpotError {
        switch error.code {
        case .unavailable:
            HubSpotError(code: .server, status: error.status, message: "refreshing the HubSpot access token failed: \(error.message)")
        case .invalidGrant:
            HubSpotError(
                code: .unauthorized, status: error.status, category: error.error,
                message: "HubSpot refused the refresh token (the app was uninstalled or the token revoked): install the app again")
        default:
            HubSpotError(code: .unauthorized, status: error.status, category: error.error, message: error.message)
        }
    }
}
