import Domain
import Foundation
import Ingestion
import OneSignalSandbox
import Testing

/// Email and SMS notifications by alias: they reach only a user's subscribed subscriptions of that channel, and each
/// channel's content is checked as OneSignal checks it (`shared/contracts/onesignal.md` §4).
@Suite("Notifications on the email and SMS channels")
struct ChannelTests {
    static func seed(_ sandbox: OneSignalSandbox) throws {
        try sandbox.seedUser(
            appID: TestApps.a.id, externalID: "all",
            subscriptions: [
                .init(type: "iOSPush", token: "ios-1"), .init(type: "Email", token: "all@example.com"),
                .init(type: "SMS", token: "+15555550100"),
            ])
        try sandbox.seedUser(appID: TestApps.a.id, externalID: "push-only", subscriptions: [.init(type: "AndroidPush", token: "fcm-1")])
        try sandbox.seedUser(
            appID: TestApps.a.id, externalID: "email-off", subscriptions: [.init(type: "Email", token: "off@example.com", enabled: false)])
    }

    private func send(_ client: SandboxClient, _ members: String) async throws -> (status: Int, json: JSONValue) {
        let answer = try await client.send(.POST, "/notifications", body: #"{"app_id":"\#(TestApps.a.id)",\#(members)}"#)
        return (answer.status, answer.json)
    }

    @Test("An email by alias goes to the user's email subscription only, with its subject and body")
    func emailByAlias() async throws {
        try await withSandbox { sandbox, client in
            try Self.seed(sandbox)
            let answer = try await send(
                client,
                #""include_aliases":{"external_id":["all"]},"target_channel":"email","email_subject":"Hi Ada","email_body":"<p>Hello</p>","email_from_name":"Acme""#)
            #expect(answer.status == 200)
            #expect(answer.json["id"]?.stringValue?.isEmpty == false)
            let notification = try #require(sandbox.notifications(appID: TestApps.a.id).first)
            #expect(notification.channel == "email")
            #expect(notification.recipients.map(\.subscriptionType) == ["Email"])
            #expect(notification.recipients.map(\.token) == ["all@example.com"])
            #expect(notification.request["email_subject"]?.stringValue == "Hi Ada")
        }
    }

    @Test("An SMS by alias goes to the user's SMS subscription only")
    func smsByAlias() async throws {
        try await withSandbox { sandbox, client in
            try Self.seed(sandbox)
            let answer = try await send(
                client, #""include_aliases":{"external_id":["all"]},"target_channel":"sms","name":"hubspot","contents":{"en":"Hi Ada"}"#)
            #expect(answer.status == 200)
            let notification = try #require(sandbox.notifications(appID: TestApps.a.id).first)
            #expect(notification.channel == "sms")
            #expect(notification.recipients.map(\.subscriptionType) == ["SMS"])
            #expect(notification.recipients.map(\.token) == ["+15555550100"])
        }
    }

    @Test("A user without a subscribed subscription of the channel gets nothing: 200 with an empty id and the error")
    func noSubscriptionOfTheChannel() async throws {
        try await withSandbox { sandbox, client in
            try Self.seed(sandbox)
            for (alias, channel) in [("push-only", "email"), ("push-only", "sms"), ("email-off", "email")] {
                let content =
                    channel == "email" ? #""email_subject":"S","email_body":"B""# : #""name":"hubspot","contents":{"en":"Hi"}"#
                let answer = try await send(
                    client, #""include_aliases":{"external_id":["\#(alias)"]},"target_channel":"\#(channel)",\#(content)"#)
                #expect(answer.status == 200, "\(alias) \(channel)")
                #expect(answer.json["id"] == .string(""), "\(alias) \(channel)")
                #expect(answer.json["errors"] == .array([.string("All included players are not subscribed")]), "\(alias) \(channel)")
            }
            #expect(sandbox.notifications(appID: TestApps.a.id).isEmpty)
        }
    }

    @Test("Each channel's own content is required: email subject and body, SMS text and name, push English content")
    func channelContentIsRequired() async throws {
        try await withSandbox { sandbox, client in
            try Self.seed(sandbox)
            let target = #""include_aliases":{"external_id":["all"]}"#
            let cases: [(members: String, error: String)] = [
                // Push content does not make an email.
                (#"\#(target),"target_channel":"email","contents":{"en":"Hi"},"headings":{"en":"Hi"}"#,
                 "email_subject is required for email notifications without a template_id"),
                (#"\#(target),"target_channel":"email","email_subject":"Hi""#,
                 "email_body is required for email notifications without a template_id"),
                (#"\#(target),"target_channel":"sms","name":"hubspot","email_subject":"S","email_body":"B""#,
                 "Message Notifications must have English language content"),
                // OneSignal's spec: `name` is required for SMS, with a template too.
                (#"\#(target),"target_channel":"sms","contents":{"en":"Hi"}"#, "name is required for SMS messages"),
                (#"\#(target),"target_channel":"sms","template_id":"be4a8044-bbd6-11e4-a581-000c2940e62c""#,
                 "name is required for SMS messages"),
                (#"\#(target),"target_channel":"push","email_subject":"S","email_body":"B""#,
                 "Message Notifications must have English language content"),
            ]
            for (members, error) in cases {
                let answer = try await send(client, members)
                #expect(answer.status == 400, "\(members)")
                #expect(answer.json == .object(["errors": .array([.string(error)])]), "\(members)")
            }
            #expect(sandbox.notifications(appID: TestApps.a.id).isEmpty)
        }
    }

    @Test("Push images and subtitle are read as the spec types them; a wrong type is 400")
    func pushMedia() async throws {
        try await withSandbox { sandbox, client in
            try Self.seed(sandbox)
            let target = #""include_aliases":{"external_id":["all"]},"target_channel":"push","contents":{"en":"Hi"}"#
            let good = try await send(
                client,
                #"\#(target),"subtitle":{"en":"Sub"},"big_picture":"https://example.com/a.png","chrome_web_image":"https://example.com/a.png","ios_attachments":{"image":"https://example.com/a.png"}"#)
            #expect(good.status == 200)
            let notification = try #require(sandbox.notifications(appID: TestApps.a.id).first)
            #expect(notification.recipients.map(\.subscriptionType) == ["iOSPush"])
            #expect(notification.request["big_picture"]?.stringValue == "https://example.com/a.png")
            let wrong = try await send(client, #"\#(target),"subtitle":"Sub""#)
            #expect(wrong.status == 400)
            #expect(wrong.json == .object(["errors": .array([.string("subtitle must be an object, not a string")])]))
        }
    }
}
