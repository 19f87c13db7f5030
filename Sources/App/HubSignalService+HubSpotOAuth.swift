import API
import EventStore
import Foundation
import HubSpot
import HubSpotAuth
import Logging
import PQ
import ServiceLifecycle

/// OAuth installs of the HubSpot app: the pieces `serve` wires together when ``AppConfiguration/hubSpotOAuthIsConfigured``.
public struct HubSpotOAuthComponents: Sendable {
    /// The installation table.
    public let installations: HubSpotInstallations
    /// The install flow behind `/hubspot/oauth/install` and `/hubspot/oauth/callback`.
    public let installer: HubSpotOAuthInstaller
    /// The installation's access tokens, for the HubSpot client.
    public let tokenSource: HubSpotOAuthTokenSource
}

extension HubSignalService {
    /// The OAuth components the configuration describes, or `nil` when OAuth installs are not configured.
    ///
    /// - Throws: when `HUBSIGNAL_TOKEN_KEY` is not a usable key (``AppConfiguration/fromEnvironment(_:requireDatabase:)``
    ///   already refuses one).
    public static func makeHubSpotOAuth(_ configuration: AppConfiguration, client: PQClient, logger: Logger) throws -> HubSpotOAuthComponents? {
        guard configuration.hubSpotOAuthIsConfigured, let clientID = configuration.hubSpotClientID,
            let clientSecret = configuration.hubSpotClientSecret, let key = configuration.tokenKey,
            let redirectURL = configuration.hubSpotOAuthRedirectURL
        else { return nil }
        let installations = HubSpotInstallations(
            client: client, cipher: try HubSpotTokenCipher(base64Key: key), store: EventStore(client: client, logger: logger))
        let oauth = HubSpotOAuthClient(
            configuration: .init(
                baseURL: configuration.hubSpotBaseURL, clientID: clientID, clientSecret: clientSecret, redirectURI: redirectURL,
                timeout: configuration.destinationTimeout))
        let installer = HubSpotOAuthInstaller(
            configuration: .init(authorizeURL: configuration.hubSpotAuthorizeURL, portalID: configuration.hubSpotPortalID),
            oauth: oauth, installations: installations, logger: logger)
        return HubSpotOAuthComponents(
            installations: installations, installer: installer,
            tokenSource: HubSpotOAuthTokenSource(installations: installations, oauth: oauth, logger: logger))
    }

    /// The HubSpot client writing with the OAuth installation's tokens.
    public static func makeHubSpotClient(
        _ configuration: AppConfiguration, tokenSource: any HubSpotAccessTokenSource, logger: Logger
    ) -> HubSpotClient {
        HubSpotClient(
            configuration: .init(baseURL: configuration.hubSpotBaseURL, tokenSource: tokenSource, timeout: configuration.destinationTimeout),
            rateLimiter: HubSpotRateLimiter(limit: configuration.hubSpotRateLimit), logger: logger)
    }

    /// The OAuth installation (portal, scopes, token schedule; no token), or `nil` when there is none.
    public static func hubSpotInstallation(_ configuration: AppConfiguration, logger: Logger) async throws -> HubSpotInstallations.Installation? {
        try await withInstallations(configuration, logger: logger) { try await $0.current() }
    }

    /// Deletes the OAuth installation and its encrypted tokens (`hubsignal hubspot oauth erase`); returns the portal it
    /// was for, or `nil` when there was none.
    public static func eraseHubSpotInstallation(_ configuration: AppConfiguration, logger: Logger) async throws -> String? {
        try await withInstallations(configuration, logger: logger) { try await $0.erase() }
    }

    /// Runs `body` with the installation table on a pool of its own, shut down afterwards.
    private static func withInstallations<T: Sendable>(
        _ configuration: AppConfiguration, logger: Logger, _ body: (HubSpotInstallations) async throws -> T
    ) async throws -> T {
        let client = makeClient(configuration, logger: logger)
        do {
            // Reading the row's columns and deleting it need no key: any valid one will do when none is configured.
            let key = configuration.tokenKey ?? Data(count: 32).base64EncodedString()
            let installations = HubSpotInstallations(
                client: client, cipher: try HubSpotTokenCipher(base64Key: key), store: EventStore(client: client, logger: logger))
            let result = try await body(installations)
            await client.shutdown()
            return result
        } catch {
            await client.shutdown()
            throw error
        }
    }
}

/// The installer as the API controller's flow; an install binds the portal the webhook and action checks accept.
struct HubSpotOAuthInstallFlow: HubSpotOAuthFlow {
    let installer: HubSpotOAuthInstaller
    let binding: HubSpotPortalBinding

    func start() -> (url: String, nonce: String) {
        installer.start()
    }

    func complete(code: String?, state: String?, error: String?, cookieNonce: String?) async -> HubSpotOAuthResult {
        switch await installer.complete(code: code, state: state, error: error, cookieNonce: cookieNonce) {
        case .installed(let portalID, _):
            binding.bind(portalID)
            return .installed(portalID: portalID)
        case .otherPortal(let portalID, let bound): return .otherPortal(portalID: portalID, boundPortalID: bound)
        case .invalidState(let reason): return .invalidState(reason)
        case .denied(let reason): return .denied(reason)
        case .failed(let reason): return .failed(reason)
        }
    }
}

/// Runs the HubSpot sync once the OAuth install has bound a portal (the sync needs the portal id for behavioral
/// event names): checks the installation table every `interval` until then. Stops quietly on graceful shutdown.
struct AwaitingHubSpotInstall: Service, CustomStringConvertible {
    var description: String { "AwaitingHubSpotInstall" }
    let installations: HubSpotInstallations
    let interval: Duration
    let logger: Logger
    let makeSync: @Sendable (String) -> any Service

    func run() async throws {
        let portal: String? = try await cancelWhenGracefulShutdown {
            var warned = false
            while !Task.isCancelled {
                if let installation = try await installations.current() { return installation.portalID }
                if !warned {
                    logger.warning("the HubSpot app is not installed yet: the HubSpot sync waits for /hubspot/oauth/install")
                    warned = true
                }
                do { try await Task.sleep(for: interval) } catch { return nil }
            }
            return nil
        }
        guard let portal, !Task.isShuttingDownGracefully else { return }
        logger.notice("the HubSpot app is installed: the HubSpot sync starts", metadata: ["hubspot.portal": "\(portal)"])
        try await makeSync(portal).run()
    }
}
