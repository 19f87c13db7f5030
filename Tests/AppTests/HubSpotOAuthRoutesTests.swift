import App
import AsyncHTTPClient
import Foundation
import HTTPTypes
import HubSpotSandbox
import Hummingbird
import HummingbirdTesting
import Ingestion
import NIOCore
import PQ
import Testing
import TestSupport

/// `/hubspot/oauth/install` and `/hubspot/oauth/callback` over real HTTP, against the sandbox's OAuth server and a
/// real PostgreSQL: the install binds the portal the webhook and workflow-action checks accept, and a second portal's
/// install and requests are refused.
@Suite struct HubSpotOAuthRoutesTests {
    static let clientSecret = "oauth-app-client-secret"
    static let publicURL = "https://hubsignal.example.com"
    static let portal = 27_356_661

    /// A live server with OAuth installs configured (and no `HUBSPOT_PORTAL_ID`) against a sandbox with the app.
    func withServer(_ body: @escaping @Sendable (any TestClientProtocol, HubSpotSandbox, TestDatabase) async throws -> Void) async throws {
        var sandboxConfiguration = HubSpotSandbox.Configuration(accessToken: "unused-static-token", portalID: Self.portal)
        sandboxConfiguration.oauth = .init(
            clientID: "oauth-client", clientSecret: Self.clientSecret, redirectURLs: [Self.publicURL + "/hubspot/oauth/callback"])
        let sandbox = HubSpotSandbox(configuration: sandboxConfiguration)
        try await sandbox.start()
        do {
            try await TestPostgres.withDatabase { database in
                var configuration = AppConfiguration(databaseURL: database.connectionString)
                configuration.hubSpotClientSecret = Self.clientSecret
                configuration.hubSpotClientID = "oauth-client"
                configuration.tokenKey = Data(repeating: 42, count: 32).base64EncodedString()
                configuration.publicURL = Self.publicURL
                configuration.hubSpotBaseURL = sandbox.baseURL
                configuration.hubSpotAuthorizeURL = sandbox.baseURL + "/oauth/authorize"
                configuration.port = 0
                let oauth = try HubSignalService.makeHubSpotOAuth(configuration, client: database.client, logger: TestPostgres.logger)
                #expect(oauth != nil)
                let application = HubSignalService.makeApplication(
                    configuration: configuration, client: database.client, logger: TestPostgres.logger, oauth: oauth)
                try await application.test(.live) { client in try await body(client, sandbox, database) }
            }
        } catch {
            await sandbox.stop()
            throw error
        }
        await sandbox.stop()
    }

    /// Starts an install, lets the sandbox approve it, and returns the callback's path and the browser's cookie.
    static func approve(_ client: any TestClientProtocol) async throws -> (callback: String, cookie: String) {
        let (location, cookie) = try await client.execute(uri: "/hubspot/oauth/install", method: .get) { response in
            #expect(response.status == .found)
            let cookie = try #require(response.headers[.setCookie])
            #expect(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && cookie.contains("Secure"))
            return (try #require(response.headers[.location]), String(cookie.split(separator: ";")[0]))
        }
        var configuration = HTTPClient.Configuration()
        configuration.redirectConfiguration = .disallow
        let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        let approval = try await http.execute(HTTPClientRequest(url: location), timeout: .seconds(10))
        try await http.shutdown()
        let redirect = try #require(approval.headers.first(name: "Location"))
        #expect(redirect.hasPrefix(publicURL + "/hubspot/oauth/callback?"))
        return (String(redirect.dropFirst(publicURL.count)), cookie)
    }

    static func signedAction(_ portalID: Int) -> (body: String, headers: HTTPFields) {
        let path = "/hubspot/actions/edit-tags"
        let body = #"{"callbackId":"ap-\#(portalID)","origin":{"portalId":\#(portalID)},"object":{"objectId":9,"objectType":"CONTACT"},"inputFields":{"tags":"{\"vip\":\"1\"}"}}"#
        let timestamp = String(Int64(Date().timeIntervalSince1970 * 1000))
        let signature = HubSpotSignature.v3(
            secret: clientSecret, method: "POST", uri: publicURL + path, body: Array(body.utf8), timestamp: timestamp)
        return (
            body,
            [
                .contentType: "application/json", HTTPField.Name("X-HubSpot-Signature-v3")!: signature,
                HTTPField.Name("X-HubSpot-Request-Timestamp")!: timestamp,
            ]
        )
    }

    @Test func theInstallBindsThePortalAndASecondPortalIsRefused() async throws {
        try await withServer { client, sandbox, database in
            // Before any install, HubSpot's requests are refused: no portal is bound.
            let before = Self.signedAction(Self.portal)
            try await client.execute(uri: "/hubspot/actions/edit-tags", method: .post, headers: before.headers, body: ByteBuffer(string: before.body)) {
                #expect($0.status == .forbidden)
            }

            let (callback, cookie) = try await Self.approve(client)
            try await client.execute(uri: callback, method: .get, headers: [.cookie: cookie]) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType]?.hasPrefix("text/html") == true)
                #expect(String(buffer: response.body).contains("HubSpot account 27356661 is connected"))
            }
            let events = try await database.client.query("SELECT type, stream FROM events WHERE type = 'hubsignal.hubspot.app_installed'")
            #expect(events.count == 1)

            // The installed portal's workflow actions are accepted, another portal's refused.
            let accepted = Self.signedAction(Self.portal)
            try await client.execute(uri: "/hubspot/actions/edit-tags", method: .post, headers: accepted.headers, body: ByteBuffer(string: accepted.body)) {
                #expect($0.status == .ok)
            }
            let foreign = Self.signedAction(666)
            try await client.execute(uri: "/hubspot/actions/edit-tags", method: .post, headers: foreign.headers, body: ByteBuffer(string: foreign.body)) {
                #expect($0.status == .forbidden)
            }

            // An install from a second portal: a clear page, nothing stored.
            sandbox.oauthInstallingPortalID = 666
            let (secondCallback, secondCookie) = try await Self.approve(client)
            try await client.execute(uri: secondCallback, method: .get, headers: [.cookie: secondCookie]) { response in
                #expect(response.status == .forbidden)
                let page = String(buffer: response.body)
                #expect(page.contains("serves HubSpot account 27356661 only"))
                #expect(page.contains("account 666 was refused"))
            }
            let portals = try await database.client.query("SELECT portal_id FROM hubspot_installations").map { try $0.decode(String.self, at: 0) }
            #expect(portals == ["27356661"])
        }
    }

    @Test func aCallbackWithoutTheBrowsersCookieOrWithAForgedStateInstallsNothing() async throws {
        try await withServer { client, sandbox, database in
            let (callback, _) = try await Self.approve(client)
            try await client.execute(uri: callback, method: .get) { response in
                #expect(response.status == .badRequest)
                #expect(String(buffer: response.body).contains("another browser"))
            }
            let (second, cookie) = try await Self.approve(client)
            let forged = second.replacingOccurrences(of: "state=", with: "state=1")
            try await client.execute(uri: forged, method: .get, headers: [.cookie: cookie]) { response in
                #expect(response.status == .badRequest)
            }
            #expect(sandbox.oauthCodeExchanges == 0)
            #expect(try await database.client.query("SELECT 1 FROM hubspot_installations").isEmpty)
        }
    }

    @Test func withoutOAuthConfigurationTheRoutesSayWhatToSet() async throws {
        try await TestPostgres.withDatabase { database in
            var configuration = AppConfiguration(databaseURL: database.connectionString)
            configuration.port = 0
            let application = HubSignalService.makeApplication(configuration: configuration, client: database.client, logger: TestPostgres.logger)
            try await application.test(.live) { client in
                for path in ["/hubspot/oauth/install", "/hubspot/oauth/callback?code=x&state=y"] {
                    try await client.execute(uri: path, method: .get) { response in
                        #expect(response.status == .notFound)
                        #expect(String(buffer: response.body).contains("HUBSPOT_CLIENT_ID"))
                    }
                }
            }
        }
    }
}
