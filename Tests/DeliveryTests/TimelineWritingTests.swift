import Delivery
import Foundation
import HubSpot
import HubSpotSandbox
import Mapping
import Testing
import TestSupport

/// Hands out the sandbox's static token as if it were an OAuth installation's: a client that authenticates as an OAuth
/// app would (the sandbox accepts the token either way).
struct FixedTokenSource: HubSpotAccessTokenSource {
    let token: String
    func accessToken() async throws -> String { token }
    func refreshedAccessToken(rejecting rejected: String) async throws -> String { token }
}

extension SyncHarness {
    /// A HubSpot client that authenticates as an OAuth app (through a token source), which may write timeline events.
    func oauthHubSpotClient() -> HubSpotClient {
        HubSpotClient(
            configuration: .init(baseURL: sandbox.baseURL, tokenSource: FixedTokenSource(token: token), timeout: .seconds(10)),
            rateLimiter: HubSpotRateLimiter(limit: 1_000), logger: TestPostgres.logger)
    }
}

/// `hubspot_timeline: { mode: timeline_event }` needs a template, which only an OAuth app can own: with a static token
/// HubSignal says so and writes notes; with OAuth it writes timeline events.
@Suite struct TimelineWritingTests {
    static let mapping = """
        hubspot_timeline:
          mode: timeline_event
          template_id: "1001298"
          kinds: [clicked]
        """

    @Test func aStaticAuthAppWritesNotesInsteadOfTimelineEvents() async throws {
        try await SyncHarness.run { sync in
            sync.sandbox.defineTimelineTemplate(.init(id: "1001298", name: "OneSignal message"))
            let mapping = try Mapping.parse(Self.mapping)
            let worker = sync.worker(mapping: mapping)
            try await sync.settle([worker], mapping: mapping)
            try await sync.identify("u1", #"{"email":"static@example.com"}"#)
            try await sync.oneSignalEvent("message.push.clicked", externalID: "u1")
            try await sync.settle([worker], mapping: mapping, timeout: .seconds(30))
            let contact = try #require(sync.sandbox.contact(email: "static@example.com"))
            #expect(sync.sandbox.notes(forContact: contact.id).count == 1)
            #expect(sync.sandbox.timelineEvents().isEmpty)
            #expect(sync.sandbox.requests.matching(pathPrefix: "/integrators/timeline/").isEmpty)
        }
    }

    @Test func anOAuthAppWritesTimelineEvents() async throws {
        try await SyncHarness.run { sync in
            sync.sandbox.defineTimelineTemplate(.init(id: "1001298", name: "OneSignal message"))
            let mapping = try Mapping.parse(Self.mapping)
            let worker = sync.worker(mapping: mapping, client: sync.oauthHubSpotClient())
            try await sync.settle([worker], mapping: mapping)
            try await sync.identify("u2", #"{"email":"oauth@example.com"}"#)
            try await sync.oneSignalEvent("message.push.clicked", externalID: "u2")
            try await sync.settle([worker], mapping: mapping, timeout: .seconds(30))
            #expect(sync.sandbox.timelineEvents().map(\.eventTemplateID) == ["1001298"])
            let contact = try #require(sync.sandbox.contact(email: "oauth@example.com"))
            #expect(sync.sandbox.notes(forContact: contact.id).isEmpty)
        }
    }

    @Test func theNoticeNamesTheFallbackOnlyForAStaticAuthTimelineEventMapping() throws {
        let timeline = try Mapping.parse(Self.mapping).timeline
        #expect(TimelineWriting.notice(for: timeline, usesOAuth: false)?.contains("writes notes instead") == true)
        #expect(TimelineWriting.notice(for: timeline, usesOAuth: true) == nil)
        #expect(TimelineWriting.notice(for: .defaults, usesOAuth: false) == nil)
    }

    /// Templates are read with the developer API key (an account token is refused), and a missing one is `nil`.
    @Test func aTemplateIsReadWithTheDeveloperKey() async throws {
        let sandbox = HubSpotSandbox(configuration: .init(accessToken: "pat-na1-test-token", developerAPIKey: "dev-key"))
        try await sandbox.start()
        do {
            sandbox.defineTimelineTemplate(.init(id: "1001298", name: "OneSignal message", tokens: ["kind"], appID: "1109808"))
            let client = HubSpotClient(
                configuration: .init(baseURL: sandbox.baseURL, accessToken: "pat-na1-test-token"), rateLimiter: HubSpotRateLimiter(limit: 100),
                logger: TestPostgres.logger)
            let template = try await client.timelineTemplate(appID: "1109808", templateID: "1001298", developerAPIKey: "dev-key")
            #expect(template?.name == "OneSignal message")
            #expect(template?.tokens.map(\.name) == ["kind"])
            #expect(try await client.timelineTemplate(appID: "1109808", templateID: "7", developerAPIKey: "dev-key") == nil)
            #expect(try await client.timelineTemplate(appID: "42", templateID: "1001298", developerAPIKey: "dev-key") == nil)
            await #expect(throws: HubSpotError.self) {
                try await client.timelineTemplate(appID: "1109808", templateID: "1001298", developerAPIKey: "wrong")
            }
        } catch {
            await sandbox.stop()
            throw error
        }
        await sandbox.stop()
    }
}
