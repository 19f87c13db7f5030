import Delivery
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Mapping
import OneSignalSandbox
import Testing
import TestSupport

/// OneSignal's HubSpot app's second way of matching (issue 22 item 4, option 2): a workflow's push to a contact with no
/// OneSignal external id goes to the push subscriptions of the OneSignal user whose email subscription is the
/// contact's email (the SDK's email method sets it), through OneSignal's `email` filter.
@Suite("Push by email: a workflow's push reaches the OneSignal user owning the contact's email")
struct PushByEmailTests {
    static let mapping = try! Mapping.parse("onesignal: { push_by_email: true }")

    /// A OneSignal user made by the app's SDK: an external id HubSignal never heard of, a push subscription, and the
    /// email the SDK's email method added; and another user with a push subscription only.
    static func seed(_ harness: OneSignalHarness) throws {
        try harness.sandbox.seedUser(
            appID: harness.appID, externalID: "sdk-7",
            subscriptions: [.init(type: "iOSPush", token: "apns-sdk-7"), .init(type: "Email", token: "ada@example.com")])
        try harness.sandbox.seedUser(appID: harness.appID, externalID: "other", subscriptions: [.init(type: "iOSPush", token: "apns-other")])
    }

    @Test("the push goes to the email owner's push subscriptions, once, and HubSpot hears SUCCESS")
    func pushReachesTheEmailOwner() async throws {
        try await OneSignalHarness.run { harness in
            try Self.seed(harness)
            try await harness.workflowAction(
                "send_notification", callbackID: "ap-email-1", objectID: "901", inputs: #"{"email":"Ada@Example.com","heading":"Hi","content":"Welcome"}"#)
            try await harness.settle([harness.worker(mapping: Self.mapping)], mapping: Self.mapping)

            let sent = harness.sandbox.notifications(appID: harness.appID)
            #expect(sent.count == 1)
            #expect(sent.first?.recipients.map(\.token) == ["apns-sdk-7"], "only the email owner's push subscription")
            let body = try #require(harness.sandbox.requests.all.first { $0.path == "/notifications" }?.body)
            let object = try JSONSerialization.jsonObject(with: body) as? [String: Any]
            #expect(object?["include_aliases"] == nil && object?["target_channel"] == nil, "one targeting mode: the filter")
            #expect((object?["filters"] as? [[String: String]]) == [["field": "email", "relation": "=", "value": "ada@example.com"]])
            #expect(harness.hubSpot.callbackCompletions().first?.outputFields["hs_execution_state"] == "SUCCESS")
            let requested = try await harness.projection.strings(
                "SELECT payload->>'pushToEmail' FROM events WHERE type = 'hubsignal.onesignal.notification_requested'")
            #expect(requested == ["ada@example.com"], "the log says who the push went to")
        }
    }

    @Test("without the option the same action fails with the reason, and nothing is sent")
    func withoutTheOptionTheActionFails() async throws {
        try await OneSignalHarness.run { harness in
            try Self.seed(harness)
            try await harness.workflowAction(
                "send_notification", callbackID: "ap-email-2", objectID: "902", inputs: #"{"email":"ada@example.com","content":"Welcome"}"#)
            try await harness.settle([harness.worker()])
            #expect(harness.sandbox.notifications(appID: harness.appID).isEmpty)
            let completion = harness.hubSpot.callbackCompletions().first?.outputFields
            #expect(completion?["hs_execution_state"] == "FAIL_CONTINUE")
            #expect(completion?["error_message"]?.contains("no OneSignal external id") == true)
        }
    }

    @Test("an email no OneSignal user owns reaches nobody, and HubSpot is told so")
    func anUnknownEmailReachesNobody() async throws {
        try await OneSignalHarness.run { harness in
            try Self.seed(harness)
            try await harness.workflowAction(
                "send_notification", callbackID: "ap-email-3", objectID: "903", inputs: #"{"email":"nobody@example.com","content":"Welcome"}"#)
            try await harness.settle([harness.worker(mapping: Self.mapping)], mapping: Self.mapping)
            #expect(harness.sandbox.notifications(appID: harness.appID).allSatisfy { $0.recipients.isEmpty })
            #expect(harness.hubSpot.callbackCompletions().first?.outputFields["hs_execution_state"] == "FAIL_CONTINUE")
        }
    }

    /// The sandbox refuses what OneSignal documents the filter cannot do: another relation, another channel.
    @Test func theSandboxRefusesTheEmailFilterOutsidePush() async throws {
        try await OneSignalHarness.run { harness in
            for extra in [#""target_channel":"email","email_subject":"s","email_body":"b""#, #""contents":{"en":"x"}"#] {
                let relation = extra.contains("email_subject") ? "=" : "!="
                var request = URLRequest(url: harness.sandbox.baseURL!.appendingPathComponent("notifications"))
                request.httpMethod = "POST"
                request.setValue("Key \(harness.apiKey)", forHTTPHeaderField: "Authorization")
                request.setValue("application/json", forHTTPHeaderField: "Content-Type")
                request.httpBody = Data(
                    #"{"app_id":"\#(harness.appID)","filters":[{"field":"email","relation":"\#(relation)","value":"ada@example.com"}],\#(extra)}"#.utf8)
                let (_, response) = try await URLSession.shared.data(for: request)
                #expect((response as? HTTPURLResponse)?.statusCode == 400, "\(extra)")
            }
        }
    }
}
