import App
import AsyncHTTPClient
import Foundation
import HubSpotSandbox
import Testing
import TestSupport

/// `hubsignal config check` with OAuth installs: what is missing, an app not installed yet, and an installed portal
/// whose token HubSpot accepts.
@Suite struct ConfigurationCheckHubSpotOAuthTests {
    @Test func theCheckFollowsTheInstall() async throws {
        var sandboxConfiguration = HubSpotSandbox.Configuration(accessToken: "unused", portalID: 31_000_031)
        sandboxConfiguration.oauth = .init(
            clientID: "check-client", clientSecret: "check-secret", redirectURLs: ["https://hubsignal.example.com/hubspot/oauth/callback"])
        let sandbox = HubSpotSandbox(configuration: sandboxConfiguration)
        try await sandbox.start()
        try await TestPostgres.withDatabase { database in
            var configuration = AppConfiguration(databaseURL: database.connectionString)
            configuration.hubSpotClientID = "check-client"
            configuration.hubSpotBaseURL = sandbox.baseURL
            configuration.hubSpotAuthorizeURL = sandbox.baseURL + "/oauth/authorize"
            func findings() async -> [ConfigurationCheck.Finding] {
                await ConfigurationCheck(configuration: configuration, logger: TestPostgres.logger).run().filter { $0.subject == "hubspot oauth" }
            }
            // Half configured: the missing variables are named.
            let missing = await findings()
            #expect(missing.map(\.level) == [.problem])
            #expect(missing.first?.message.contains("HUBSPOT_CLIENT_SECRET, HUBSIGNAL_TOKEN_KEY, HUBSIGNAL_PUBLIC_URL") == true)

            configuration.hubSpotClientSecret = "check-secret"
            configuration.tokenKey = Data(repeating: 3, count: 32).base64EncodedString()
            configuration.publicURL = "https://hubsignal.example.com"
            let notInstalled = await findings()
            #expect(notInstalled.map(\.level) == [.warning])
            #expect(notInstalled.first?.message.contains("https://hubsignal.example.com/hubspot/oauth/install") == true)

            // Install (the browser's part played here), then the check uses the installation's token.
            let oauth = try #require(try HubSignalService.makeHubSpotOAuth(configuration, client: database.client, logger: TestPostgres.logger))
            let (url, nonce) = oauth.installer.start()
            var noRedirects = HTTPClient.Configuration()
            noRedirects.redirectConfiguration = .disallow
            let browser = HTTPClient(eventLoopGroupProvider: .singleton, configuration: noRedirects)
            let approval = try await browser.execute(HTTPClientRequest(url: url), timeout: .seconds(10))
            try await browser.shutdown()
            let items = URLComponents(string: approval.headers.first(name: "Location") ?? "")?.queryItems ?? []
            _ = await oauth.installer.complete(
                code: items.first { $0.name == "code" }?.value, state: items.first { $0.name == "state" }?.value, error: nil,
                cookieNonce: nonce)
            let installed = await findings()
            #expect(installed.map(\.level) == [.ok], "\(installed)")
            #expect(installed.first?.message.contains("portal 31000031 installed") == true)

            // Uninstalled in HubSpot: the refresh token is refused, and the check says to install again.
            for token in sandbox.oauthRefreshTokens { sandbox.revokeOAuthRefreshToken(token) }
            let revoked = await findings()
            #expect(revoked.map(\.level) == [.problem])
            #expect(revoked.first?.message.contains("install the app again") == true)
        }
        await sandbox.stop()
    }
}
