import Delivery
import Domain
import EventStore
import Foundation
import OneSignalSandbox
import PQ
import Testing
import TestSupport

/// Send-notification actions personalized with the contact's properties (`object.properties`) and sent on the chosen
/// channel, through the outbox and the OneSignal sync to the OneSignal sandbox, completed on the HubSpot sandbox.
@Suite("Workflow notifications: personalized, on push, email and SMS", .serialized)
struct RichNotificationTests {
    static let phone = "+15555550100"

    /// Appends a send-notification action for HubSpot contact `objectID` (recipient: the input `external_id`), with
    /// `inputs` and the contact `properties` HubSpot sent, as `/hubspot/actions/send-notification` stores it.
    private func action(
        _ harness: OneSignalHarness, callbackID: String, objectID: Int = 501, externalID: String = "u1", inputs: [String: String],
        properties: [String: JSONValue]
    ) async throws {
        var fields = inputs.mapValues { JSONValue.string($0) }
        fields["external_id"] = .string(externalID)
        let body = JSONValue.object([
            "callbackId": .string(callbackID), "origin": .object(["portalId": .int(12_345_678)]),
            "object": .object(["objectId": .int(Int64(objectID)), "objectType": .string("CONTACT"), "properties": .object(properties)]),
            "inputFields": .object(fields),
        ])
        try await harness.projection.store.append([
            NewEvent(
                stream: "hubspot-contact:\(objectID)", type: .sendNotification, source: .hubspot, idempotencyKey: callbackID,
                occurredAt: Date(), payload: PQJSONB(bytes: try body.serialized()), metadata: PQJSONB("{}"))
        ])
    }

    private func seedUser(_ harness: OneSignalHarness, _ externalID: String = "u1", _ subscriptions: [OneSignalSandbox.SeedSubscription]) throws {
        try harness.sandbox.seedUser(appID: harness.appID, externalID: externalID, subscriptions: subscriptions)
    }

    private func completion(_ harness: OneSignalHarness, _ callbackID: String) throws -> [String: String] {
        try #require(harness.hubSpot.callbackCompletions().first { $0.callbackID == callbackID }).outputFields
    }

    /// The payload of the one event of `type` for `callbackID`.
    private func event(_ harness: OneSignalHarness, _ type: EventType, _ callbackID: String) async throws -> JSONValue {
        let rows = try await harness.projection.client.query(
            "SELECT payload FROM events WHERE type = \(type.rawValue) AND idempotency_key = \("\(type.rawValue):\(callbackID)")")
        let payload = try #require(rows.first).decode(PQJSONB.self, at: 0)
        return try JSONValue.parse(payload.bytes)
    }

    @Test("a push renders each contact's properties into title, subtitle, message, launch URL and image; a fallback or nothing for a missing one")
    func personalizedPush() async throws {
        try await OneSignalHarness.run { harness in
            try seedUser(harness, "u1", [.init(type: "iOSPush", token: String(repeating: "a", count: 64))])
            try seedUser(harness, "u2", [.init(type: "AndroidPush", token: "fcm-2")])
            let inputs = [
                "heading": #"Hi {{ contact.firstname | default: "there" }}"#,
                "subtitle": "{{ contact.company }}",
                "content": "{{ contact.firstname }}, your {{ contact.plan }} plan renews soon.",
                "url": "https://example.com/renew?name={{ contact.firstname }}&id={{ contact.hs_object_id }}",
                "image_url": "https://img.example.com/{{ contact.plan | default: \"basic\" }}.png",
            ]
            try await action(
                harness, callbackID: "ap-1-1-1-0", objectID: 501, externalID: "u1", inputs: inputs,
                properties: ["firstname": .string("Ada Lovelace"), "company": .string("Analytical"), "plan": .string("pro"), "hs_object_id": .string("501")])
            // The second contact has no firstname (blank) and no plan or company at all.
            try await action(
                harness, callbackID: "ap-1-2-1-0", objectID: 502, externalID: "u2", inputs: inputs,
                properties: ["firstname": .string(""), "hs_object_id": .string("502")])
            try await harness.settle([harness.worker()])

            let notifications = harness.sandbox.notifications(appID: harness.appID)
            #expect(notifications.count == 2)
            let ada = try #require(notifications.first { $0.recipientExternalIDs == ["u1"] })
            #expect(ada.channel == "push")
            #expect(ada.headings == ["en": "Hi Ada Lovelace"])
            #expect(ada.request["subtitle"] == .object(["en": .string("Analytical")]))
            #expect(ada.contents == ["en": "Ada Lovelace, your pro plan renews soon."])
            // Values are percent-encoded inside a URL.
            #expect(ada.request["url"]?.stringValue == "https://example.com/renew?name=Ada%20Lovelace&id=501")
            #expect(ada.request["big_picture"]?.stringValue == "https://img.example.com/pro.png")
            #expect(ada.request["chrome_web_image"]?.stringValue == "https://img.example.com/pro.png")
            #expect(ada.request["ios_attachments"] == .object(["image": .string("https://img.example.com/pro.png")]))

            let other = try #require(notifications.first { $0.recipientExternalIDs == ["u2"] })
            #expect(other.headings == ["en": "Hi there"])
            #expect(other.request["subtitle"] == nil)  // rendered empty: left out, never "{{ contact.company }}"
            #expect(other.contents == ["en": ", your  plan renews soon."])
            #expect(other.request["url"]?.stringValue == "https://example.com/renew?name=&id=502")
            #expect(other.request["big_picture"]?.stringValue == "https://img.example.com/basic.png")
            for notification in notifications {
                #expect(!"\(notification.request)".contains("{{"))
            }

            // The log records what was sent, rendered.
            let requested = try await event(harness, .oneSignalNotificationRequested, "ap-1-1-1-0")
            #expect(requested["heading"]?.stringValue == "Hi Ada Lovelace")
            #expect(requested["subtitle"]?.stringValue == "Analytical")
            #expect(requested["image_url"]?.stringValue == "https://img.example.com/pro.png")
            #expect(requested["targetChannel"]?.stringValue == "push")
            #expect(try completion(harness, "ap-1-1-1-0")["hs_execution_state"] == "SUCCESS")
            #expect(try completion(harness, "ap-1-2-1-0")["hs_execution_state"] == "SUCCESS")
        }
    }

    @Test("an email goes to the user's email subscription, subject and body personalized (values HTML-escaped in the body)")
    func email() async throws {
        try await OneSignalHarness.run { harness in
            try seedUser(harness, "u1", [.init(type: "iOSPush", token: "ios-1"), .init(type: "Email", token: "ada@example.com")])
            try await action(
                harness, callbackID: "ap-2-1-1-0",
                inputs: [
                    "channel": "email", "email_subject": #"Welcome, {{ contact.firstname | default: "friend" }}"#,
                    "email_body": "<p>Hello {{ contact.firstname }} from {{ contact.company }}</p>", "email_from_name": "Acme",
                    "content": "a push text, not read for email",
                ],
                properties: ["firstname": .string("Ada"), "company": .string("R&D <Labs>")])
            try await harness.settle([harness.worker()])
            let notification = try #require(harness.sandbox.notifications(appID: harness.appID).first)
            #expect(notification.channel == "email")
            #expect(notification.recipients.map(\.subscriptionType) == ["Email"])
            #expect(notification.request["target_channel"]?.stringValue == "email")
            #expect(notification.request["email_subject"]?.stringValue == "Welcome, Ada")
            #expect(notification.request["email_body"]?.stringValue == "<p>Hello Ada from R&amp;D &lt;Labs&gt;</p>")
            #expect(notification.request["email_from_name"]?.stringValue == "Acme")
            #expect(notification.contents == nil)
            let fields = try completion(harness, "ap-2-1-1-0")
            #expect(fields["hs_execution_state"] == "SUCCESS")
            #expect(fields["notification_id"] == notification.id)
            #expect(fields["recipients"] == "1")
        }
    }

    @Test("an SMS goes to the user's SMS subscription with its text and a name (OneSignal requires one)")
    func sms() async throws {
        try await OneSignalHarness.run { harness in
            try seedUser(harness, "u1", [.init(type: "iOSPush", token: "ios-1"), .init(type: "SMS", token: Self.phone)])
            try await action(
                harness, callbackID: "ap-3-1-1-0",
                inputs: ["channel": "sms", "sms_body": "Hi {{ contact.firstname }}, code {{ contact.promo | default: \"WELCOME\" }}"],
                properties: ["firstname": .string("Ada")])
            try await harness.settle([harness.worker()])
            let notification = try #require(harness.sandbox.notifications(appID: harness.appID).first)
            #expect(notification.channel == "sms")
            #expect(notification.recipients.map(\.token) == [Self.phone])
            #expect(notification.contents == ["en": "Hi Ada, code WELCOME"])
            #expect(notification.request["name"]?.stringValue?.contains("ap-3-1-1-0") == true)
            #expect(try completion(harness, "ap-3-1-1-0")["hs_execution_state"] == "SUCCESS")
        }
    }

    @Test("a contact whose OneSignal user has no email (or SMS) subscription fails the action with the reason, nothing sent")
    func missingSubscriptionFails() async throws {
        try await OneSignalHarness.run { harness in
            try seedUser(harness, "u1", [.init(type: "iOSPush", token: "ios-1"), .init(type: "Email", token: "off@example.com", enabled: false)])
            try await action(
                harness, callbackID: "ap-4-1-1-0", inputs: ["channel": "email", "email_subject": "S", "email_body": "B"], properties: [:])
            try await action(harness, callbackID: "ap-4-2-1-0", objectID: 502, inputs: ["channel": "sms", "content": "Hi"], properties: [:])
            try await harness.settle([harness.worker()])
            #expect(harness.sandbox.notifications(appID: harness.appID).isEmpty)
            let email = try completion(harness, "ap-4-1-1-0")
            #expect(email["hs_execution_state"] == "FAIL_CONTINUE")
            #expect(email["error_message"]?.contains("no subscribed email subscription") == true)
            #expect(email["error_message"]?.contains("All included players are not subscribed") == true)
            let sms = try completion(harness, "ap-4-2-1-0")
            #expect(sms["hs_execution_state"] == "FAIL_CONTINUE")
            #expect(sms["error_message"]?.contains("no subscribed SMS subscription") == true)
            let failed = try await event(harness, .oneSignalNotificationFailed, "ap-4-1-1-0")
            #expect(failed["targetChannel"]?.stringValue == "email")
            #expect(failed["reason"]?.stringValue?.contains("email subscription") == true)
        }
    }

    @Test("an action whose text cannot be rendered is failed with the reason and never sent (queued before intake checked it)")
    func malformedQueuedTextIsNotSent() async throws {
        try await OneSignalHarness.run { harness in
            try seedUser(harness, "u1", [.init(type: "iOSPush", token: "ios-1")])
            try await action(harness, callbackID: "ap-5-1-1-0", inputs: ["content": "Hi {{ contact.firstname"], properties: ["firstname": .string("Ada")])
            // A URL from a property whose fallback is no URL: this contact has no such property.
            try await action(
                harness, callbackID: "ap-5-2-1-0", objectID: 502, inputs: ["content": "Hi", "url": #"{{ contact.website | default: "none" }}"#],
                properties: [:])
            // The whole URL from a property, without a fallback: sent with the contact's URL, as it is.
            try await action(
                harness, callbackID: "ap-5-3-1-0", objectID: 503, inputs: ["content": "Hi", "url": "{{ contact.website }}"],
                properties: ["website": .string("https://ada.example.com/a?b=c")])
            try await harness.settle([harness.worker()])
            let sent = harness.sandbox.notifications(appID: harness.appID)
            #expect(sent.count == 1)
            #expect(sent.first?.request["url"]?.stringValue == "https://ada.example.com/a?b=c")
            #expect(try completion(harness, "ap-5-3-1-0")["hs_execution_state"] == "SUCCESS")
            let malformed = try completion(harness, "ap-5-1-1-0")
            #expect(malformed["hs_execution_state"] == "FAIL_CONTINUE")
            #expect(malformed["error_message"]?.contains("never closed") == true)
            let empty = try completion(harness, "ap-5-2-1-0")
            #expect(empty["hs_execution_state"] == "FAIL_CONTINUE")
            #expect(empty["error_message"]?.contains("url") == true)
        }
    }
}
