import ArgumentParser
import Foundation
import HubSpotSandbox

/// `hubsignal sandbox hubspot`: runs the in-memory HubSpot API imitation until SIGINT/SIGTERM.
struct SandboxHubSpot: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hubspot",
        abstract: "Run an in-memory imitation of the HubSpot API (CRM objects, properties, associations, events).",
        discussion: """
            Point a HubSpot client at the printed base URL instead of https://api.hubapi.com, with the same token.
            State lives in memory and is gone when the process stops.
            """)

    @Option(help: "Address to listen on.")
    var host = "127.0.0.1"

    @Option(help: "Port to listen on (0 picks a free one).")
    var port = 8091

    @Option(help: "The only Bearer token accepted (default: HUBSPOT_ACCESS_TOKEN).")
    var token: String?

    @Option(help: "Requests allowed per 10-second window.")
    var rateLimit = 100

    @Option(help: "Portal (hub) id; custom event names are pe<portal-id>_<name>.")
    var portalId = 12_345_678

    @Option(help: "The developer API key accepted (as ?hapikey=) on the workflow action definition endpoints (default: HUBSPOT_DEVELOPER_API_KEY; none: they refuse every request).")
    var developerApiKey: String?

    @Option(help: "Also serve OAuth (/oauth/authorize, /oauth/v3/token, /oauth/v3/token/introspect) for an app with this redirect URL, e.g. http://127.0.0.1:8080/hubspot/oauth/callback; its client id and secret are HUBSPOT_CLIENT_ID and HUBSPOT_CLIENT_SECRET.")
    var oauthRedirectUrl: String?

    func validate() throws {
        guard resolvedToken() != nil else {
            throw ValidationError("--token is required (or set HUBSPOT_ACCESS_TOKEN)")
        }
        if oauthRedirectUrl != nil, oauthApp(redirectURL: "") == nil {
            throw ValidationError("--oauth-redirect-url needs HUBSPOT_CLIENT_ID and HUBSPOT_CLIENT_SECRET (the app's client id and secret)")
        }
        guard (0...65_535).contains(port) else { throw ValidationError("--port \(port) is not between 0 and 65535") }
        guard rateLimit > 0 else { throw ValidationError("--rate-limit must be positive") }
    }

    private func resolvedToken() -> String? {
        let value = token ?? ProcessInfo.processInfo.environment["HUBSPOT_ACCESS_TOKEN"]
        return value?.isEmpty == false ? value : nil
    }

    /// The OAuth app of `HUBSPOT_CLIENT_ID` / `HUBSPOT_CLIENT_SECRET`, or `nil` when either is unset.
    private func oauthApp(redirectURL: String) -> HubSpotSandbox.OAuthConfiguration? {
        let environment = ProcessInfo.processInfo.environment
        guard let clientID = environment["HUBSPOT_CLIENT_ID"], !clientID.isEmpty,
            let clientSecret = environment["HUBSPOT_CLIENT_SECRET"], !clientSecret.isEmpty
        else { return nil }
        return HubSpotSandbox.OAuthConfiguration(clientID: clientID, clientSecret: clientSecret, redirectURLs: [redirectURL])
    }

    func run() async throws {
        var configuration = HubSpotSandbox.Configuration(
            accessToken: resolvedToken()!, portalID: portalId, rateLimit: rateLimit, host: host, port: port,
            developerAPIKey: developerApiKey
                ?? ProcessInfo.processInfo.environment["HUBSPOT_DEVELOPER_API_KEY"].flatMap { $0.isEmpty ? nil : $0 },
            requestLogLimit: 1_000)
        configuration.oauth = oauthRedirectUrl.flatMap { oauthApp(redirectURL: $0) }
        let sandbox = HubSpotSandbox(configuration: configuration)
        let host = host
        let rateLimit = rateLimit
        let portalId = portalId
        try await sandbox.run { boundPort in
            let shownHost = ["0.0.0.0", "::"].contains(host) ? "127.0.0.1" : host
            let banner =
                "HubSpot sandbox listening on http://\(shownHost):\(boundPort) (portal \(portalId), \(rateLimit) requests per 10 s)\n"
                + "Stop with Ctrl-C.\n"
            FileHandle.standardOutput.write(Data(banner.utf8))
        }
    }
}
