import Domain
import Foundation
import Ingestion
import Testing

/// What a send-notification action's inputs must hold when HubSpot calls it: a mistake is `invalid_action` (answered
/// `FAIL_CONTINUE` with the reason) and nothing is queued.
@Suite struct WorkflowNotificationTests {
    private func action(_ inputs: [String: JSONValue], properties: [String: JSONValue] = [:]) -> JSONValue {
        .object([
            "callbackId": .string("ap-1-2-3-0"),
            "object": .object(["objectId": .int(501), "objectType": .string("CONTACT"), "properties": .object(properties)]),
            "inputFields": .object(inputs),
        ])
    }

    private func refusal(_ inputs: [String: JSONValue]) -> String? {
        do {
            _ = try HubSpotWorkflowAction.sendNotification.parse(action(inputs), receivedAt: Date())
            return nil
        } catch {
            return error.code == "invalid_action" ? error.message : "unexpected \(error.code): \(error.message)"
        }
    }

    @Test func eachChannelAcceptsItsContent() throws {
        let accepted: [[String: JSONValue]] = [
            ["content": .string("Hi {{ contact.firstname }}")],
            ["channel": .string("push"), "template_id": .string("be4a8044-bbd6-11e4-a581-000c2940e62c")],
            ["channel": .string("EMAIL"), "email_subject": .string("Hi"), "email_body": .string("<p>{{ contact.firstname }}</p>")],
            ["channel": .string("email"), "template_id": .string("be4a8044-bbd6-11e4-a581-000c2940e62c")],
            ["channel": .string("sms"), "sms_body": .string("Hi")],
            ["channel": .string("sms"), "content": .string("Hi")],
            // Inputs of another channel are ignored, even malformed ones (the editor keeps what was typed before).
            ["channel": .string("email"), "email_subject": .string("S"), "email_body": .string("B"), "content": .string("{{ broken")],
            ["content": .string("Hi"), "url": .string("https://example.com/{{ contact.hs_object_id }}?n={{ contact.firstname }}")],
            ["content": .string("Hi"), "url": .string("{{ contact.website }}")],
            ["content": .string("Hi"), "image_url": .string(#"{{ contact.avatar | default: "https://example.com/a.png" }}"#)],
        ]
        for inputs in accepted {
            #expect(refusal(inputs) == nil, "\(inputs)")
        }
    }

    @Test func mistakesAreRefusedWithTheReason() {
        let cases: [(inputs: [String: JSONValue], reason: String)] = [
            ([:], "a push notification needs"),
            (["heading": .string("Hi")], "a push notification needs"),
            (["channel": .string("fax"), "content": .string("Hi")], "\"channel\" must be push, email or sms"),
            (["channel": .string("email"), "content": .string("Hi")], "an email needs"),
            (["channel": .string("email"), "email_subject": .string("Hi")], "an email needs"),
            (["channel": .string("sms"), "email_body": .string("Hi")], "an SMS needs"),
            (["template_id": .string("welcome")], "\"template_id\" must be a OneSignal template id"),
            (["content": .string("Hi {{ contact.firstname")], "the input \"content\" is not a valid message: the {{ at character 4 is never closed"),
            (["content": .string("Hi {{ user.name }}")], "the input \"content\" is not a valid message"),
            (["content": .string("Hi"), "heading": .string("{{ contact.firstname | upcase }}")], "the input \"heading\""),
            (["channel": .string("email"), "email_subject": .string("{{ contact.x"), "email_body": .string("B")], "\"email_subject\""),
            (["content": .string("Hi"), "url": .string("example.com/page")], "\"url\" must be an absolute"),
            (["content": .string("Hi"), "url": .string("ftp://example.com/{{ contact.x }}")], "\"url\" must be an absolute"),
            (["content": .string("Hi"), "url": .string(#"{{ contact.website | default: "none" }}"#)], "\"url\" must be an absolute"),
            (["content": .string("Hi"), "image_url": .string("/img.png")], "\"image_url\" must be an absolute"),
            (["content": .object([:])], "the input \"content\" must be text"),
        ]
        for (inputs, reason) in cases {
            let message = refusal(inputs)
            #expect(message?.contains(reason) == true, "\(inputs): \(message ?? "accepted")")
        }
    }

    @Test func renderingPerContactEscapesValuesByPlace() throws {
        let notification = try WorkflowNotification(inputs: [
            "channel": .string("push"), "heading": .string("Hi {{ contact.firstname }}"), "content": .string("{{ contact.firstname }} & co"),
            "url": .string("https://example.com/?q={{ contact.firstname }}"),
        ])
        let rendered = try notification.rendered(for: ["firstname": "Ada & <Bob>"])
        #expect(rendered.heading == "Hi Ada & <Bob>")
        #expect(rendered.content == "Ada & <Bob> & co")
        #expect(rendered.url == "https://example.com/?q=Ada%20%26%20%3CBob%3E")
        let email = try WorkflowNotification(inputs: [
            "channel": .string("email"), "email_subject": .string("{{ contact.firstname }}"), "email_body": .string("<b>{{ contact.firstname }}</b>"),
        ])
        let mail = try email.rendered(for: ["firstname": "<i>Ada</i>"])
        #expect(mail.emailSubject == "<i>Ada</i>")
        #expect(mail.emailBody == "<b>&lt;i&gt;Ada&lt;/i&gt;</b>")
        // Nothing left to send for this contact: refused, never an empty message.
        let empty = try WorkflowNotification(inputs: ["content": .string("{{ contact.firstname }}")])
        #expect(throws: IngestionError.self) { try empty.rendered(for: [:]) }
    }
}
