import AsyncHTTPClient
import Domain
import EventStore
import Foundation
import HubSpot
import HubSpotSandbox
import Logging
import PQ
import SandboxKit
import Testing
import TestSupport

@testable import HubSpotAuth

/// OAuth installs against the sandbox's authorization server and a real PostgreSQL: install, the client writing with
/// the installation's tokens, refreshes (due, and after a `401`), two processes refreshing once, a second portal
/// refused, and the tokens kept out of the log, the logs and the table.
@Suite struct HubSpotOAuthInstallTests {
    static let clientID = "hubsignal-client-id"
    static let clientSecret = "hubsignal-client-secret"
    static let redirect = "https://hubsignal.example.com/hubspot/oauth/callback"
    static let key = Data((0..<32).map { UInt8($0) }).base64EncodedString()
    /// What the sandbox grants an install: the required and the optional scopes asked for.
    static let granted = (HubSpotOAuthInstaller.requiredScopes + HubSpotOAuthInstaller.optionalScopes).sorted()

    /// A started sandbox with the OAuth app, its access tokens living `lifetime`.
    static func makeSandbox(lifetime: Duration = .seconds(1800)) async throws -> HubSpotSandbox {
        var configuration = HubSpotSandbox.Configuration(accessToken: "static-token-of-the-app", portalID: 4_400_001)
        configuration.oauth = .init(
            clientID: clientID, clientSecret: clientSecret, redirectURLs: [redirect], accessTokenLifetime: lifetime)
        let sandbox = HubSpotSandbox(configuration: configuration)
        try await sandbox.start()
        return sandbox
    }

    struct Parts {
        let installations: HubSpotInstallations
        let installer: HubSpotOAuthInstaller
        let tokens: HubSpotOAuthTokenSource
        let client: HubSpotClient
    }

    /// What `serve` builds, on `database`'s pool `client`.
    static func makeParts(_ sandbox: HubSpotSandbox, client: PQClient, portalID: String? = nil, logger: Logger = TestPostgres.logger) throws -> Parts {
        let installations = HubSpotInstallations(
            client: client, cipher: try HubSpotTokenCipher(base64Key: key), store: EventStore(client: client, logger: logger))
        let oauth = HubSpotOAuthClient(
            configuration: .init(baseURL: sandbox.baseURL, clientID: clientID, clientSecret: clientSecret, redirectURI: redirect))
        let installer = HubSpotOAuthInstaller(
            configuration: .init(authorizeURL: sandbox.baseURL + "/oauth/authorize", portalID: portalID), oauth: oauth,
            installations: installations, logger: logger)
        let tokens = HubSpotOAuthTokenSource(installations: installations, oauth: oauth, logger: logger)
        let hubSpot = HubSpotClient(
            configuration: .init(baseURL: sandbox.baseURL, tokenSource: tokens), rateLimiter: HubSpotRateLimiter(limit: 100),
            logger: logger)
        return Parts(installations: installations, installer: installer, tokens: tokens, client: hubSpot)
    }

    /// Plays the browser: opens the install URL at the sandbox's authorize page and reads the redirect back to
    /// HubSignal's callback.
    static func authorize(_ url: String) async throws -> (code: String?, state: String?) {
        var configuration = HTTPClient.Configuration()
        configuration.redirectConfiguration = .disallow
        let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        do {
            let response = try await http.execute(HTTPClientRequest(url: url), timeout: .seconds(10))
            try await http.shutdown()
            #expect(response.status.code == 302)
            let location = try #require(response.headers.first(name: "Location"))
            #expect(location.hasPrefix(redirect + "?"))
            let items = URLComponents(string: location)?.queryItems ?? []
            return (items.first { $0.name == "code" }?.value, items.first { $0.name == "state" }?.value)
        } catch {
            try await http.shutdown()
            throw error
        }
    }

    /// Installs through the whole flow; returns the outcome.
    static func install(_ parts: Parts) async throws -> HubSpotOAuthInstaller.Outcome {
        let (url, nonce) = parts.installer.start()
        let (code, state) = try await authorize(url)
        return await parts.installer.complete(code: code, state: state, error: nil, cookieNonce: nonce)
    }

    static func upsert(_ client: HubSpotClient, _ email: String) async throws {
        _ = try await client.upsert(
            [HubSpotUpsertInput(id: email, idProperty: "email", properties: ["email": email])], objectType: "contacts")
    }

    // MARK: - Install

    @Test func anInstallStoresThePortalAndTheClientWritesWithItsToken() async throws {
        let sandbox = try await Self.makeSandbox()
        try await TestPostgres.withDatabase { database in
            let parts = try Self.makeParts(sandbox, client: database.client)
            // The authorize URL asks for every scope HubSignal's calls need, with the callback as redirect.
            let (url, _) = parts.installer.start()
            let query = try #require(URLComponents(string: url)?.queryItems)
            #expect(query.first { $0.name == "client_id" }?.value == Self.clientID)
            #expect(query.first { $0.name == "redirect_uri" }?.value == Self.redirect)
            let scopes = query.first { $0.name == "scope" }?.value?.split(separator: " ").map(String.init) ?? []
            let optional = query.first { $0.name == "optional_scope" }?.value?.split(separator: " ").map(String.init) ?? []
            #expect(scopes == HubSpotAppScopes.forAuthentication(.oauth).required.map(\.rawValue))
            #expect(optional == HubSpotAppScopes.forAuthentication(.oauth).optional.map(\.rawValue))
            #expect(Set(scopes + optional).isSuperset(of: ["crm.objects.contacts.write", "automation", "oauth", "timeline"]))

            #expect(try await Self.install(parts) == .installed(portalID: "4400001", scopes: Self.granted))
            #expect(sandbox.oauthCodeExchanges == 1)
            #expect(try await parts.installations.current()?.portalID == "4400001")
            let events = try await database.makeEventStore().events(inStream: "hubspot-installation:4400001")
            #expect(events.count == 1)
            let installed = try #require(try events.first?.payload(as: HubSpotAppInstalled.self))
            #expect(installed.scopes == Self.granted)
            #expect(installed.appID == "4242001")

            try await Self.upsert(parts.client, "ada@example.com")
            #expect(sandbox.contact(email: "ada@example.com") != nil)
            let upserts = sandbox.requests.matching(method: "POST", path: "/crm/v3/objects/contacts/batch/upsert")
            let token = try #require(upserts.first?.header("Authorization"))
            #expect(sandbox.oauthAccessTokens.contains(String(token.dropFirst("Bearer ".count))))
            #expect(sandbox.oauthRefreshes == 0)
        }
        await sandbox.stop()
    }

    @Test func aClientBeforeAnyInstallIsRefusedAsUnauthorized() async throws {
        let sandbox = try await Self.makeSandbox()
        try await TestPostgres.withDatabase { database in
            let parts = try Self.makeParts(sandbox, client: database.client)
            let error = await #expect(throws: HubSpotError.self) { try await Self.upsert(parts.client, "ada@example.com") }
            #expect(error?.code == .unauthorized)
            #expect(sandbox.requests.count == 0)
        }
        await sandbox.stop()
    }

    @Test func aForgedOrForeignStateInstallsNothing() async throws {
        let sandbox = try await Self.makeSandbox()
        try await TestPostgres.withDatabase { database in
            let parts = try Self.makeParts(sandbox, client: database.client)
            let (url, nonce) = parts.installer.start()
            let (code, state) = try await Self.authorize(url)
            let forged = "9999999999.\(nonce).AAAA"
            guard case .invalidState = await parts.installer.complete(code: code, state: forged, error: nil, cookieNonce: nonce) else {
                Issue.record("a forged state was accepted")
                return
            }
            guard case .invalidState = await parts.installer.complete(code: code, state: state, error: nil, cookieNonce: "another-browser") else {
                Issue.record("a state of another browser was accepted")
                return
            }
            // An expired state: the installer's clock ten minutes and a second later.
            guard case .invalidState = await parts.installer.complete(code: code, state: state, error: nil, cookieNonce: nonce, now: Date().addingTimeInterval(601)) else {
                Issue.record("an expired state was accepted")
                return
            }
            #expect(sandbox.oauthCodeExchanges == 0)
            #expect(try await parts.installations.current() == nil)
            // A user who declined.
            #expect(await parts.installer.complete(code: nil, state: state, error: "access_denied", cookieNonce: nonce) == .denied("access_denied"))
        }
        await sandbox.stop()
    }

    @Test func anInstallFromASecondPortalIsRefused() async throws {
        let sandbox = try await Self.makeSandbox()
        try await TestPostgres.withDatabase { database in
            let parts = try Self.makeParts(sandbox, client: database.client)
            #expect(try await Self.install(parts) == .installed(portalID: "4400001", scopes: Self.granted))
            sandbox.oauthInstallingPortalID = 5_500_002
            #expect(try await Self.install(parts) == .otherPortal(portalID: "5500002", boundPortalID: "4400001"))
            #expect(try await parts.installations.current()?.portalID == "4400001")
            #expect(try await database.makeEventStore().events(inStream: "hubspot-installation:5500002").isEmpty)
            // The same portal may authorize again (e.g. with new scopes).
            sandbox.oauthInstallingPortalID = 4_400_001
            #expect(try await Self.install(parts) == .installed(portalID: "4400001", scopes: Self.granted))
            // HUBSPOT_PORTAL_ID binds before any install.
            #expect(try await parts.installations.erase() == "4400001")
            let configured = try Self.makeParts(sandbox, client: database.client, portalID: "6600003")
            #expect(try await Self.install(configured) == .otherPortal(portalID: "4400001", boundPortalID: "6600003"))
            #expect(try await parts.installations.current() == nil)
        }
        await sandbox.stop()
    }

    // MARK: - Refresh

    @Test func theAccessTokenIsRefreshedBeforeItExpires() async throws {
        // A 6-second token is due for a refresh after 4.8 seconds (a fifth of its lifetime before it expires).
        let sandbox = try await Self.makeSandbox(lifetime: .seconds(6))
        try await TestPostgres.withDatabase { database in
            let parts = try Self.makeParts(sandbox, client: database.client)
            _ = try await Self.install(parts)
            try await Self.upsert(parts.client, "ada@example.com")
            try await Self.upsert(parts.client, "bob@example.com")
            // Normally 0; 1 only on a machine so loaded that 4.8 s passed already.
            let before = sandbox.oauthRefreshes
            #expect(before <= 1)
            try await Task.sleep(for: .milliseconds(5000))
            try await Self.upsert(parts.client, "cy@example.com")
            #expect(sandbox.oauthRefreshes == before + 1)
            // No call was ever refused: the refresh came first.
            #expect(sandbox.requests.all.allSatisfy { $0.status != 401 })
            #expect(try await parts.installations.current()?.refreshes == before + 1)
        }
        await sandbox.stop()
    }

    @Test func aTokenExpiredMidRunIsRefreshedOnceAndTheCallRetried() async throws {
        let sandbox = try await Self.makeSandbox()
        try await TestPostgres.withDatabase { database in
            let parts = try Self.makeParts(sandbox, client: database.client)
            _ = try await Self.install(parts)
            try await Self.upsert(parts.client, "ada@example.com")
            // HubSpot expires (or revokes) the token before HubSignal's clock says so.
            sandbox.expireOAuthAccessTokens()
            try await Self.upsert(parts.client, "bob@example.com")
            #expect(sandbox.contact(email: "bob@example.com") != nil)
            let upserts = sandbox.requests.matching(method: "POST", path: "/crm/v3/objects/contacts/batch/upsert")
            #expect(upserts.map(\.status) == [200, 401, 200])
            #expect(sandbox.oauthRefreshes == 1)
            // The 401 is HubSpot's expired-token answer.
            #expect(upserts[1].status == 401)

            // A revoked refresh token: one refresh attempt, then the call fails as unauthorized (install again).
            for token in sandbox.oauthRefreshTokens { sandbox.revokeOAuthRefreshToken(token) }
            let error = await #expect(throws: HubSpotError.self) { try await Self.upsert(parts.client, "cy@example.com") }
            #expect(error?.code == .unauthorized)
            #expect(sandbox.requests.matching(method: "POST", path: "/crm/v3/objects/contacts/batch/upsert").count == 4)
        }
        await sandbox.stop()
    }

    @Test func twoProcessesOnOneDatabaseRefreshOnce() async throws {
        let sandbox = try await Self.makeSandbox()
        try await TestPostgres.withDatabase { database in
            let first = try Self.makeParts(sandbox, client: database.client)
            _ = try await Self.install(first)
            // A second process: its own pool, its own token cache.
            var configuration = PQClient.Configuration(connectionString: database.connectionString)
            configuration.maximumConnections = 4
            let otherPool = PQClient(configuration: configuration, logger: TestPostgres.logger)
            let second = try Self.makeParts(sandbox, client: otherPool)
            try await Self.upsert(first.client, "ada@example.com")
            try await Self.upsert(second.client, "bob@example.com")
            #expect(sandbox.oauthRefreshes == 0)
            sandbox.expireOAuthAccessTokens()
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<8 {
                    let client = index.isMultiple(of: 2) ? first.client : second.client
                    group.addTask { try await Self.upsert(client, "user\(index)@example.com") }
                }
                try await group.waitForAll()
            }
            #expect(sandbox.oauthRefreshes == 1)
            #expect(sandbox.contacts().count == 10)
            await otherPool.shutdown()
        }
        await sandbox.stop()
    }

    // MARK: - Secrets

    @Test func tokensAreInNeitherTheLogNorTheLogsNorTheTableInClear() async throws {
        let sandbox = try await Self.makeSandbox()
        let logs = CapturedLogs()
        try await TestPostgres.withDatabase { database in
            let parts = try Self.makeParts(sandbox, client: database.client, logger: logs.logger(label: "oauth"))
            _ = try await Self.install(parts)
            sandbox.expireOAuthAccessTokens()
            try await Self.upsert(parts.client, "ada@example.com")
            let secrets = sandbox.oauthRefreshTokens + sandbox.oauthAccessTokens + [Self.clientSecret]
            #expect(sandbox.oauthRefreshTokens.count == 1)
            #expect(sandbox.oauthAccessTokens.count == 2)
            let table = try await database.client.query(
                "SELECT t::text, encode(refresh_token, 'escape'), encode(access_token, 'escape') FROM hubspot_installations t")
            let events = try await database.client.query("SELECT payload::text || metadata::text FROM events")
            let stored = try table.map { try $0.decode(String.self, at: 0) + $0.decode(String.self, at: 1) + $0.decode(String.self, at: 2) }
                + events.map { try $0.decode(String.self, at: 0) }
            #expect(!stored.isEmpty)
            #expect(!logs.all.isEmpty)
            for secret in secrets {
                #expect(!stored.contains { $0.contains(secret) }, "a token is stored in clear")
                #expect(!logs.text.contains(secret), "a token is in the logs")
            }
            // HubSignal's own requests to the sandbox carry the secret and the refresh token in form bodies only.
            let tokenCalls = sandbox.requests.matching(pathPrefix: "/oauth/v3/")
            #expect(tokenCalls.count == 3)  // the code exchange, the introspection, the refresh
            for request in tokenCalls {
                #expect(!request.query.contains(Self.clientSecret))
                #expect(request.bodyText.contains("client_secret="))
            }
        }
        await sandbox.stop()
    }
}
