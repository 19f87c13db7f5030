import Foundation
import Ingestion
import OneSignalSandbox
import Testing

@Suite("Create and view notifications")
struct NotificationTests {
    static let templateID = "be4a8044-bbd6-11e4-a581-000c2940e62c"

    static func seedRecipients(_ sandbox: OneSignalSandbox) throws {
        try sandbox.seedUser(
            appID: TestApps.a.id, externalID: "contact_123",
            subscriptions: [.init(type: "iOSPush", token: "ios-token-1"), .init(type: "Email", token: "joe@example.com")])
        try sandbox.seedUser(appID: TestApps.a.id, externalID: "contact_456", subscriptions: [.init(type: "AndroidPush", token: "fcm-1")])
        try sandbox.seedUser(
            appID: TestApps.a.id, externalID: "contact_off", subscriptions: [.init(type: "iOSPush", token: "ios-off", enabled: false)])
    }

    @Test("By external ids with a template: 200 with the id and the idempotency key, one recipient per subscription")
    func templateSend() async throws {
        try await withSandbox { sandbox, client in
            try Self.seedRecipients(sandbox)
            let key = "0e0c2d36-7a0c-4a4e-9d0e-1f2a3b4c5d6e"
            let answer = try await client.send(
                .POST, "/notifications",
                body: #"""
                    {"app_id":"\#(TestApps.a.id)","include_aliases":{"external_id":["contact_123","contact_456","unknown"]},
                     "target_channel":"push","template_id":"\#(Self.templateID)","custom_data":{"deal_name":"Acme renewal"},
                     "idempotency_key":"\#(key)"}
                    """#)
            #expect(answer.status == 200)
            let id = try #require(answer.json["id"]?.stringValue)
            #expect(UUID(uuidString: id) != nil)
            #expect(answer.json["external_id"] == .string(key))
            #expect(answer.json["errors"] == nil)

            let notifications = sandbox.notifications(appID: TestApps.a.id)
            #expect(notifications.count == 1)
            let notification = try #require(notifications.first)
            #expect(notification.id == id)
            #expect(notification.channel == "push")
            #expect(notification.templateID == Self.templateID)
            #expect(notification.recipientExternalIDs == ["contact_123", "contact_456"])
            #expect(notification.recipients.map(\.subscriptionType) == ["iOSPush", "AndroidPush"])
            #expect(notification.idempotencyKey == key)
        }
    }

    @Test("By external ids with custom content; unsubscribed aliases are listed in invalid_aliases")
    func customContent() async throws {
        try await withSandbox { sandbox, client in
            try Self.seedRecipients(sandbox)
            let answer = try await client.send(
                .POST, "/notifications",
                body: #"""
                    {"app_id":"\#(TestApps.a.id)","include_aliases":{"external_id":["contact_123","contact_off"]},"target_channel":"push",
                     "contents":{"en":"Your deal closed","es":"Tu trato se cerró"},"headings":{"en":"Good news"},
                     "url":"https://example.com/deals/9","data":{"deal_id":"9"}}
                    """#)
            #expect(answer.status == 200)
            #expect(answer.json["external_id"] == .null)
            #expect(answer.json["errors"] == json(#"{"invalid_aliases":{"external_id":["contact_off"]}}"#))
            let notification = try #require(sandbox.notifications(appID: TestApps.a.id).first)
            #expect(notification.contents == ["en": "Your deal closed", "es": "Tu trato se cerró"])
            #expect(notification.headings == ["en": "Good news"])
            #expect(notification.url == "https://example.com/deals/9")
            #expect(notification.data == json(#"{"deal_id":"9"}"#))
            #expect(notification.recipientExternalIDs == ["contact_123"])

            let email = try await client.send(
                .POST, "/notifications",
                body: #"{"app_id":"\#(TestApps.a.id)","include_aliases":{"external_id":["contact_123"]},"target_channel":"email","email_subject":"Hi","email_body":"Body [unsubscribe_url]"}"#)
            #expect(email.status == 200)
            #expect(sandbox.notifications(appID: TestApps.a.id).last?.recipients.map(\.token) == ["joe@example.com"])

            let viewed = try await client.send(.GET, "/notifications/\(notification.id)?app_id=\(TestApps.a.id)")
            #expect(viewed.status == 200)
            #expect(viewed.json["id"] == .string(notification.id))
            #expect(viewed.json["successful"] == .int(1))
            #expect(viewed.json["contents"]?["en"] == .string("Your deal closed"))

            let listed = try await client.send(.GET, "/notifications?app_id=\(TestApps.a.id)&limit=1")
            #expect(listed.status == 200)
            #expect(listed.json["total_count"] == .int(2))
            #expect(listed.json["notifications"]?.arrayValue?.count == 1)
            #expect(listed.json["notifications"]?.arrayValue?.first?["id"] == .string(sandbox.notifications(appID: TestApps.a.id)[1].id))

            let missing = try await client.send(.GET, "/notifications/\(UUID().uuidString)?app_id=\(TestApps.a.id)")
            #expect(missing.status == 404)
            #expect(missing.json == json(#"{"errors":["Notification not found"]}"#))
        }
    }

    @Test("The same idempotency key returns the same answer, replayed, and sends once")
    func idempotency() async throws {
        try await withSandbox { sandbox, client in
            try Self.seedRecipients(sandbox)
            let body = #"""
                {"app_id":"\#(TestApps.a.id)","include_aliases":{"external_id":["contact_123"]},"target_channel":"push",
                 "contents":{"en":"Once"},"idempotency_key":"6a3c1e0e-9a55-4a8e-8e55-6f0f0c1d2e3f"}
                """#
            let first = try await client.send(.POST, "/notifications", body: body)
            let second = try await client.send(.POST, "/notifications", body: body)
            #expect(first.status == 200)
            #expect(second.status == 200)
            #expect(first.json == second.json)
            #expect(first.headers.first(name: "Idempotent-Replayed") == nil)
            #expect(second.headers.first(name: "Idempotent-Replayed") == "true")
            #expect(sandbox.notifications(appID: TestApps.a.id).count == 1)

            let legacyKey = #"{"app_id":"\#(TestApps.a.id)","include_aliases":{"external_id":["contact_456"]},"target_channel":"push","contents":{"en":"Legacy"},"external_id":"1b9a2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"}"#
            let legacyFirst = try await client.send(.POST, "/notifications", body: legacyKey)
            let legacySecond = try await client.send(.POST, "/notifications", body: legacyKey)
            #expect(legacyFirst.json["id"] == legacySecond.json["id"])
            #expect(legacyFirst.json["external_id"] == .string("1b9a2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"))
            #expect(sandbox.notifications(appID: TestApps.a.id).count == 2)
        }
    }

    @Test("Nobody reachable: 200 with an empty id and the documented error")
    func noRecipients() async throws {
        try await withSandbox { sandbox, client in
            try Self.seedRecipients(sandbox)
            for aliases in [#"["contact_off"]"#, #"["nobody"]"#, "[]"] {
                let answer = try await client.send(
                    .POST, "/notifications",
                    body: #"{"app_id":"\#(TestApps.a.id)","include_aliases":{"external_id":\#(aliases)},"target_channel":"push","contents":{"en":"Hi"}}"#)
                #expect(answer.status == 200)
                #expect(answer.json == json(#"{"id":"","errors":["All included players are not subscribed"]}"#))
            }
            #expect(sandbox.notifications(appID: TestApps.a.id).isEmpty)
        }
    }

    @Test("Invalid bodies are 400 in the basic envelope, naming the problem")
    func invalidBodies() async throws {
        try await withSandbox { sandbox, client in
            try Self.seedRecipients(sandbox)
            let app = TestApps.a.id
            let cases: [(body: String, error: String)] = [
                (#"{"app_id":"\#(app)","contents":{"en":"Hi"}}"#,
                 "You must include which players, segments, or tags you wish to send this notification to."),
                (#"{"app_id":"\#(app)","include_aliases":{"external_id":["contact_123"]},"target_channel":"push"}"#,
                 "Message Notifications must have English language content"),
                (#"{"app_id":"\#(app)","include_aliases":{"external_id":["contact_123"]},"target_channel":"push","contents":"Hi"}"#,
                 "contents must be an object, not a string"),
                (#"{"app_id":"\#(app)","include_aliases":{"external_id":["contact_123"]},"contents":{"en":"Hi"}}"#,
                 "target_channel (push, email or sms) is required with include_aliases"),
                (#"{"app_id":"\#(app)","include_aliases":{"external_id":["contact_123"]},"target_channel":"fax","contents":{"en":"Hi"}}"#,
                 "target_channel must be one of push, email, sms, not \"fax\""),
                (#"{"app_id":"\#(app)","include_aliases":{"external_id":[7]},"target_channel":"push","contents":{"en":"Hi"}}"#,
                 "include_aliases.external_id[0] must be a string, not a number"),
                (#"{"app_id":"\#(app)","include_subscription_ids":["nope"],"contents":{"en":"Hi"}}"#,
                 "Incorrect subscription_id format in include_subscription_ids (not a valid UUID): nope"),
                (#"{"app_id":"\#(app)","include_aliases":{"external_id":["contact_123"]},"included_segments":["All"],"target_channel":"push","contents":{"en":"Hi"}}"#,
                 "include_aliases and included_segments cannot be combined: use exactly one targeting mode per request"),
                (#"{"app_id":"\#(app)","included_segments":["All"],"contents":{"en":"Hi"},"ttl":"soon"}"#,
                 "ttl must be an integer, not a string"),
            ]
            for (body, error) in cases {
                let answer = try await client.send(.POST, "/notifications", body: body)
                #expect(answer.status == 400, "\(body)")
                #expect(answer.json == .object(["errors": .array([.string(error)])]), "\(body)")
            }
            let noContentType = try await client.send(
                .POST, "/notifications",
                body: #"{"app_id":"\#(app)","include_aliases":{"external_id":["contact_123"]},"target_channel":"push","contents":{"en":"Hi"}}"#,
                contentType: nil)
            #expect(noContentType.status == 400)
            #expect(noContentType.json == json(#"{"errors":["app_id not found. You may be missing a Content-Type: application/json header."]}"#))
            #expect(sandbox.notifications(appID: app).isEmpty)
        }
    }

    @Test("Segments and filters target users by tags")
    func segmentsAndFilters() async throws {
        try await withSandbox { sandbox, client in
            try sandbox.seedUser(
                appID: TestApps.a.id, externalID: "trial-1", tags: ["aud_trial": "1"], subscriptions: [.init(type: "iOSPush", token: "a")])
            try sandbox.seedUser(
                appID: TestApps.a.id, externalID: "paid-1", tags: ["plan": "pro"], subscriptions: [.init(type: "iOSPush", token: "b")])
            let created = try await client.send(
                .POST, "/apps/\(TestApps.a.id)/segments",
                body: #"{"name":"Trial users","filters":[{"field":"tag","key":"aud_trial","relation":"=","value":"1"}]}"#)
            #expect(created.status == 201)
            #expect(created.json["success"] == .bool(true))

            let bySegment = try await client.send(
                .POST, "/notifications", body: #"{"app_id":"\#(TestApps.a.id)","included_segments":["Trial users"],"contents":{"en":"Hi"}}"#)
            #expect(bySegment.status == 200)
            #expect(sandbox.notifications(appID: TestApps.a.id).last?.recipientExternalIDs == ["trial-1"])

            let byFilter = try await client.send(
                .POST, "/notifications",
                body: #"{"app_id":"\#(TestApps.a.id)","filters":[{"field":"tag","key":"plan","relation":"exists"}],"contents":{"en":"Hi"}}"#)
            #expect(byFilter.status == 200)
            #expect(sandbox.notifications(appID: TestApps.a.id).last?.recipientExternalIDs == ["paid-1"])

            let everyoneButTrial = try await client.send(
                .POST, "/notifications",
                body: #"{"app_id":"\#(TestApps.a.id)","included_segments":["Subscribed Users"],"excluded_segments":["Trial users"],"contents":{"en":"Hi"}}"#)
            #expect(everyoneButTrial.status == 200)
            #expect(sandbox.notifications(appID: TestApps.a.id).last?.recipientExternalIDs == ["paid-1"])
        }
    }
}
