import Foundation
import Ingestion
import OneSignalSandbox
import Testing

@Suite("Subscriptions")
struct SubscriptionTests {
    @Test("Create, opt out, transfer and delete a subscription")
    func lifecycle() async throws {
        try await withSandbox { sandbox, client in
            try sandbox.seedUser(appID: TestApps.a.id, externalID: "owner-1")
            try sandbox.seedUser(appID: TestApps.a.id, externalID: "owner-2")
            let created = try await client.send(
                .POST, Paths.user("owner-1") + "/subscriptions", body: #"{"subscription":{"type":"Email","token":"joe@example.com"}}"#)
            #expect(created.status == 201)
            let id = try #require(created.json["subscription"]?["id"]?.stringValue)
            #expect(created.json["subscription"]?["enabled"] == .bool(true))

            let sameToken = try await client.send(
                .POST, Paths.user("owner-2") + "/subscriptions", body: #"{"subscription":{"type":"Email","token":"joe@example.com"}}"#)
            #expect(sameToken.status == 202)
            #expect(sameToken.json["subscription"]?["id"] == .string(id))
            #expect(sandbox.user(appID: TestApps.a.id, externalID: "owner-1")?.subscriptions.isEmpty == true)

            let optOut = try await client.send(
                .PATCH, "/apps/\(TestApps.a.id)/subscriptions/\(id)", body: #"{"subscription":{"enabled":false,"notification_types":-31}}"#)
            #expect(optOut.status == 200)
            let subscription = try #require(sandbox.user(appID: TestApps.a.id, externalID: "owner-2")?.subscriptions.first)
            #expect(subscription.enabled == false)
            #expect(subscription.notificationTypes == -31)
            #expect(subscription.isSubscribed == false)

            let send = try await client.send(
                .POST, "/notifications",
                body: #"{"app_id":"\#(TestApps.a.id)","include_aliases":{"external_id":["owner-2"]},"target_channel":"email","email_subject":"s","email_body":"b"}"#)
            #expect(send.json == json(#"{"id":"","errors":["All included players are not subscribed"]}"#))

            let transferred = try await client.send(
                .PATCH, "/apps/\(TestApps.a.id)/subscriptions/\(id)/owner", body: #"{"identity":{"external_id":"owner-1"}}"#)
            #expect(transferred.status == 200)
            #expect(transferred.json["identity"]?["external_id"] == .string("owner-1"))
            let byToken = try await client.send(.GET, "/apps/\(TestApps.a.id)/subscriptions/\(id)/user/identity")
            #expect(byToken.json["identity"]?["external_id"] == .string("owner-1"))

            let twoAliases = try await client.send(
                .PATCH, "/apps/\(TestApps.a.id)/subscriptions/\(id)/owner", body: #"{"identity":{"external_id":"owner-1","crm":"2"}}"#)
            #expect(twoAliases.status == 400)
            #expect(twoAliases.json["errors"]?.arrayValue?.first?["title"] == .string("identity must have at most 1 member"))

            let deleted = try await client.send(.DELETE, "/apps/\(TestApps.a.id)/subscriptions/\(id)")
            #expect(deleted.status == 202)
            let missing = try await client.send(.DELETE, "/apps/\(TestApps.a.id)/subscriptions/\(id)")
            #expect(missing.status == 404)
            #expect(missing.json == json(#"{"errors":[{"code":"subscription-0","title":"Subscription not found"}]}"#))
        }
    }

    @Test("Update by token, and a deleted user's token is free for a new subscription")
    func byToken() async throws {
        try await withSandbox { sandbox, client in
            try sandbox.seedUser(appID: TestApps.a.id, externalID: "t-1", subscriptions: [.init(type: "SMS", token: "+15551234567")])
            try sandbox.seedUser(appID: TestApps.a.id, externalID: "t-2")
            let updated = try await client.send(
                .PATCH, "/apps/\(TestApps.a.id)/subscriptions_by_token/SMS/%2B15551234567", body: #"{"subscription":{"enabled":false}}"#)
            #expect(updated.status == 202)
            #expect(updated.json == json("{}"))
            let subscription = try #require(sandbox.user(appID: TestApps.a.id, externalID: "t-1")?.subscriptions.first)
            #expect(subscription.enabled == false)
            #expect(subscription.notificationTypes == -31)

            let unknown = try await client.send(
                .PATCH, "/apps/\(TestApps.a.id)/subscriptions_by_token/SMS/%2B10000000000", body: #"{"subscription":{"enabled":true}}"#)
            #expect(unknown.status == 404)

            let deleted = try await client.send(.DELETE, Paths.user("t-1"))
            #expect(deleted.status == 200)
            let reused = try await client.send(
                .POST, Paths.user("t-2") + "/subscriptions", body: #"{"subscription":{"type":"SMS","token":"+15551234567"}}"#)
            #expect(reused.status == 201)
            #expect(reused.json["subscription"]?["id"] != .string(subscription.id))
            #expect(sandbox.user(appID: TestApps.a.id, externalID: "t-2")?.subscriptions.map(\.token) == ["+15551234567"])
        }
    }
}
