import Foundation
import Ingestion
import OneSignalSandbox
import SandboxKit
import Testing

@Suite("Rate limits")
struct RateLimitTests {
    @Test("A second write to the same user within a second is 429 with Retry-After; other users are not limited")
    func perUserWrites() async throws {
        // A clock that stands still: "within a second" however slowly a loaded machine sends the requests.
        let clock = SandboxClock.manual()
        let configuration = TestApps.configuration(
            rateLimits: .init(userWritesPerSecond: 1, viewsPerSecond: nil, notificationsPerSecond: nil, clock: clock))
        try await withSandbox(configuration) { sandbox, client in
            try sandbox.seedUser(appID: TestApps.a.id, externalID: "busy")
            try sandbox.seedUser(appID: TestApps.a.id, externalID: "calm")
            let first = try await client.send(.PATCH, Paths.user("busy"), body: #"{"properties":{"tags":{"a":"1"}}}"#)
            #expect(first.status == 202)
            let second = try await client.send(.PATCH, Paths.user("busy"), body: #"{"properties":{"tags":{"a":"2"}}}"#)
            #expect(second.status == 429)
            #expect(second.headers.first(name: "Retry-After") == "1")
            #expect(second.json == json(#"{"errors":[{"code":"Rate Limit Exceeded","title":"API rate limit exceeded"}]}"#))
            #expect(sandbox.user(appID: TestApps.a.id, externalID: "busy")?.tags == ["a": "1"])

            let other = try await client.send(.PATCH, Paths.user("calm"), body: #"{"properties":{"tags":{"a":"1"}}}"#)
            #expect(other.status == 202)
            #expect(sandbox.rateLimitedResponses == 1)

            clock.advance(by: .milliseconds(1_050))
            let later = try await client.send(.PATCH, Paths.user("busy"), body: #"{"properties":{"tags":{"a":"3"}}}"#)
            #expect(later.status == 202)
            #expect(sandbox.user(appID: TestApps.a.id, externalID: "busy")?.tags == ["a": "3"])
        }
    }

    @Test("The documented fallback (update, 404, create) is not limited; the next write to the new user is")
    func fallbackFlow() async throws {
        let configuration = TestApps.configuration(
            rateLimits: .init(userWritesPerSecond: 1, viewsPerSecond: nil, notificationsPerSecond: nil, clock: .manual()))
        try await withSandbox(configuration) { sandbox, client in
            let update = try await client.send(.PATCH, Paths.user("fresh"), body: #"{"properties":{"tags":{"a":"1"}}}"#)
            #expect(update.status == 404)
            let create = try await client.send(
                .POST, Paths.users(), body: #"{"identity":{"external_id":"fresh"},"properties":{"tags":{"a":"1"}}}"#)
            #expect(create.status == 201)
            let again = try await client.send(.PATCH, Paths.user("fresh"), body: #"{"properties":{"tags":{"a":"2"}}}"#)
            #expect(again.status == 429)
            #expect(sandbox.user(appID: TestApps.a.id, externalID: "fresh")?.tags == ["a": "1"])
            #expect(sandbox.rateLimitedResponses == 1)
        }
    }

    @Test("View endpoints allow one request per second per app")
    func views() async throws {
        let configuration = TestApps.configuration(
            rateLimits: .init(userWritesPerSecond: nil, viewsPerSecond: 1, notificationsPerSecond: nil, clock: .manual()))
        try await withSandbox(configuration) { sandbox, client in
            try sandbox.seedUser(appID: TestApps.a.id, externalID: "v1")
            try sandbox.seedUser(appID: TestApps.a.id, externalID: "v2")
            let first = try await client.send(.GET, Paths.user("v1"))
            #expect(first.status == 200)
            let second = try await client.send(.GET, Paths.user("v2"))
            #expect(second.status == 429)
            #expect(second.headers.first(name: "Retry-After") == "1")
            let notifications = try await client.send(.GET, "/notifications?app_id=\(TestApps.a.id)")
            #expect(notifications.status == 429)
            #expect(notifications.json == json(#"{"errors":["API rate limit exceeded"],"limit":"App ID"}"#))
            let otherApp = try await client.send(
                .GET, "/notifications?app_id=\(TestApps.b.id)", authorization: "Key \(TestApps.b.apiKey)")
            #expect(otherApp.status == 200)
            #expect(sandbox.rateLimitedResponses == 2)
        }
    }

    @Test("Create notification is limited per app at the configured rate")
    func notifications() async throws {
        let configuration = TestApps.configuration(
            rateLimits: .init(userWritesPerSecond: nil, viewsPerSecond: nil, notificationsPerSecond: 2, clock: .manual()))
        try await withSandbox(configuration) { sandbox, client in
            try sandbox.seedUser(appID: TestApps.a.id, externalID: "n1", subscriptions: [.init(type: "iOSPush", token: "t1")])
            let body = #"{"app_id":"\#(TestApps.a.id)","include_aliases":{"external_id":["n1"]},"target_channel":"push","contents":{"en":"Hi"}}"#
            var statuses: [Int] = []
            for _ in 0..<3 {
                statuses.append(try await client.send(.POST, "/notifications", body: body).status)
            }
            #expect(statuses == [200, 200, 429])
            #expect(sandbox.notifications(appID: TestApps.a.id).count == 2)
        }
    }
}
