import Foundation
import HubSpot
import HubSpotAuth
import Logging

extension ConfigurationCheck {
    /// OAuth installs: every variable they need, the installation, and HubSpot accepting its token (refreshed first
    /// when it is due, as `serve` would).
    func hubSpotOAuth() async -> [Finding] {
        guard configuration.hubSpotClientID != nil else {
            return [Finding(level: .warning, subject: "hubspot", message: "HUBSPOT_ACCESS_TOKEN is not set: the HubSpot sync is off")]
        }
        guard configuration.hubSpotOAuthIsConfigured else {
            return [
                Finding(
                    level: .problem, subject: "hubspot oauth",
                    message: "HUBSPOT_CLIENT_ID is set but OAuth installs also need "
                        + configuration.hubSpotOAuthMissing.joined(separator: ", "))
            ]
        }
        let client = HubSignalService.makeClient(configuration, logger: logger)
        let findings: [Finding]
        do {
            guard let oauth = try HubSignalService.makeHubSpotOAuth(configuration, client: client, logger: logger) else {
                await client.shutdown()
                return []
            }
            guard let installation = try await oauth.installations.current() else {
                await client.shutdown()
                let install = (configuration.publicURL ?? "HUBSIGNAL_PUBLIC_URL") + "/hubspot/oauth/install"
                return [
                    Finding(
                        level: .warning, subject: "hubspot oauth",
                        message: "the app is not installed yet: open \(install) in a browser signed in to HubSpot (the sync waits until then)")
                ]
            }
            let hubSpot = HubSpotClient(
                configuration: .init(baseURL: configuration.hubSpotBaseURL, tokenSource: oauth.tokenSource, timeout: Self.timeout),
                rateLimiter: HubSpotRateLimiter(limit: configuration.hubSpotRateLimit), logger: logger)
            let properties = try await hubSpot.properties(of: "contacts")
            findings = [
                Finding(
                    level: .ok, subject: "hubspot oauth",
                    message: "portal \(installation.portalID) installed; \(configuration.hubSpotBaseURL) accepts its token "
                        + "(\(properties.count) contact properties)")
            ]
        } catch let error as HubSpotError {
            let hint = error.code == .unauthorized ? "; install the app again through /hubspot/oauth/install" : ""
            findings = [
                Finding(level: .problem, subject: "hubspot oauth", message: "\(configuration.hubSpotBaseURL) refused: \(error.reason)\(hint)")
            ]
        } catch {
            findings = [Finding(level: .problem, subject: "hubspot oauth", message: "the installation cannot be read: \(error)")]
        }
        await client.shutdown()
        return findings
    }
}
