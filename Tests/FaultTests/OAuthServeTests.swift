import AsyncHTTPClient
import EmbeddedPostgres
import FaultHarness
import Foundation
import HubSpotSandbox
import NIOCore
import NIOHTTP1
import OneSignalSandbox
import PQ
import Testing
import TestSupport

/// A real `hubsignal serve` with OAuth installs and no static token: the sync waits for the install, a browser installs
/// the app, contacts are written with the installation's access token, a token HubSpot expires mid-run is refreshed
/// once, and a workflow action's callback is completed with the OAuth token (the sandbox takes only the owning app's
/// token there). The refresh token appears in no log line.
@Suite(.serialized) struct OAuthServeTests {
    static let writeKey = "oauth-serve-key"
    static let clientID = "oauth-serve-client"
    static let clientSecret = "oauth-serve-client-secret"
    static let oneSignalAppID = "1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f"

    @Test func anOAuthInstallSyncsAndRefreshesMidRun() async throws {
        try await TestPostgres.withDatabase { database in
            let port = try EmbeddedPostgres.findFreePort()
            let publicURL = "http://127.0.0.1:\(port)"
            var configuration = HubSpotSandbox.Configuration(accessToken: "static-token-not-given-to-hubsignal", rateLimit: 1_000)
            configuration.oauth = .init(clientID: Self.clientID, clientSecret: Self.clientSecret, redirectURLs: [publicURL + "/hubspot/oauth/callback"])
            let hubSpot = HubSpotSandbox(configuration: configuration)
            _ = try await hubSpot.start()
            let oneSignal = OneSignalSandbox(configuration: .init(appID: Self.oneSignalAppID, apiKey: "os_v2_app_oauth_serve"))
            _ = try await oneSignal.start()
            let serve = try ServeProcess(
                port: port,
                environment: [
                    "DATABASE_URL": database.connectionString, "HUBSIGNAL_WRITE_KEYS": Self.writeKey,
                    "HUBSIGNAL_MIGRATIONS_DIR": TestPostgres.migrationsDirectory.path,
                    "HUBSPOT_CLIENT_ID": Self.clientID, "HUBSPOT_CLIENT_SECRET": Self.clientSecret,
                    "HUBSIGNAL_TOKEN_KEY": Data(repeating: 9, count: 32).base64EncodedString(),
                    "HUBSPOT_BASE_URL": hubSpot.baseURL, "HUBSPOT_AUTHORIZE_URL": hubSpot.baseURL + "/oauth/authorize",
                    "HUBSIGNAL_PUBLIC_URL": publicURL, "ONESIGNAL_APP_ID": Self.oneSignalAppID,
                    "ONESIGNAL_API_KEY": "os_v2_app_oauth_serve", "ONESIGNAL_BASE_URL": oneSignal.baseURL!.absoluteString,
                    "HUBSIGNAL_SYNC_LINGER_MS": "50", "HUBSIGNAL_LOG_LEVEL": "debug",
                ])
            do {
                try await serve.waitUntilReady()
                try await Self.exercise(serve: serve, publicURL: publicURL, hubSpot: hubSpot, oneSignal: oneSignal)
            } catch {
                Issue.record("serve log: \(serve.logTail(lines: 40))")
                await serve.kill()
                await hubSpot.stop()
                await oneSignal.stop()
                throw error
            }
            #expect(await serve.terminate() == 0, "serve did not exit cleanly: \(serve.logTail())")
            let log = (try? String(contentsOf: serve.logFile, encoding: .utf8)) ?? ""
            #expect(!log.isEmpty)
            for secret in hubSpot.oauthRefreshTokens + hubSpot.oauthAccessTokens + [Self.clientSecret] {
                #expect(!log.contains(secret), "a token or the client secret is in serve's log")
            }
            await hubSpot.stop()
            await oneSignal.stop()
        }
    }

    static func exercise(serve: ServeProcess, publicURL: String, hubSpot: HubSpotSandbox, oneSignal: OneSignalSandbox) async throws {
        // Before the install, contacts wait: nothing reaches HubSpot.
        try await identify(serve, "u-ada", "ada@example.com")
        try await Task.sleep(for: .milliseconds(500))
        #expect(hubSpot.contacts().isEmpty)

        // A browser installs the app: HubSignal's install link → HubSpot's approval → HubSignal's callback.
        var noRedirects = HTTPClient.Configuration()
        noRedirects.redirectConfiguration = .disallow
        let browser = HTTPClient(eventLoopGroupProvider: .singleton, configuration: noRedirects)
        do {
            let install = try await browser.execute(HTTPClientRequest(url: publicURL + "/hubspot/oauth/install"), timeout: .seconds(10))
            #expect(install.status.code == 302)
            let cookie = String((install.headers.first(name: "Set-Cookie") ?? "").split(separator: ";")[0])
            let approval = try await browser.execute(
                HTTPClientRequest(url: try #require(install.headers.first(name: "Location"))), timeout: .seconds(10))
            var callback = HTTPClientRequest(url: try #require(approval.headers.first(name: "Location")))
            callback.headers.add(name: "Cookie", value: cookie)
            let page = try await browser.execute(callback, timeout: .seconds(10))
            let body = try await page.body.collect(upTo: 1 << 16)
            #expect(page.status.code == 200, "callback page: \(String(buffer: body))")
            try await browser.shutdown()
        } catch {
            try await browser.shutdown()
            throw error
        }

        // The sync starts and writes with the installation's access token.
        _ = try await eventually("the contact in HubSpot") { hubSpot.contact(email: "ada@example.com") }
        let upsert = try #require(hubSpot.requests.matching(method: "POST", path: "/crm/v3/objects/contacts/batch/upsert").first)
        #expect(hubSpot.oauthAccessTokens.contains(String((upsert.header("Authorization") ?? "").dropFirst("Bearer ".count))))

        // HubSpot expires the token mid-run: one 401, one refresh, the contact still arrives.
        hubSpot.expireOAuthAccessTokens()
        try await identify(serve, "u-bob", "bob@example.com")
        _ = try await eventually("the second contact in HubSpot") { hubSpot.contact(email: "bob@example.com") }
        #expect(hubSpot.oauthRefreshes == 1)

        // A workflow sends a push; the callback is completed with the OAuth token.
        _ = try await eventually("the OneSignal user") { oneSignal.users(appID: oneSignalAppID).isEmpty ? nil : true }
        let contact = try #require(hubSpot.contact(email: "bob@example.com"))
        let answer = try await hubSpot.callWorkflowAction(
            url: URL(string: publicURL + "/hubspot/actions/send-notification")!, callbackId: "cb-oauth",
            objectId: Int(contact.id)!, inputFields: ["heading": "Hi", "content": "Shipped", "external_id": "u-bob"],
            clientSecret: clientSecret)
        #expect(answer.status == 200, "the action answered \(answer.status): \(String(decoding: answer.body, as: UTF8.self))")
        _ = try await eventually("the callback completion") { hubSpot.callbackCompletions().first }
        // Only the expired token was refused (once per call that carried it: calls in flight at once may each get one).
        let refused = hubSpot.requests.all.filter { ($0.status ?? 0) >= 400 }
        #expect(!refused.isEmpty && refused.allSatisfy { $0.status == 401 }, "HubSpot refused: \(refused.map { "\($0.method) \($0.path) \($0.status ?? 0)" })")
        #expect(hubSpot.oauthRefreshes == 1)
    }

    static func identify(_ serve: ServeProcess, _ userID: String, _ email: String) async throws {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(serve.port)/v1/identify")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "Authorization", value: "Basic " + Data("\(writeKey):".utf8).base64EncodedString())
        request.body = .bytes(ByteBuffer(string: #"{"userId":"\#(userID)","messageId":"m-\#(userID)","traits":{"email":"\#(email)","firstName":"Ada","plan":"pro"}}"#))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        #expect(response.status.code == 200)
    }

    /// Polls `probe` until it gives a value, for at most 60 s.
    static func eventually<T>(_ what: String, _ probe: () throws -> T?) async throws -> T {
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            if let value = try probe() { return value }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw TestPostgresError("\(what) did not arrive within 60 s")
    }
}
