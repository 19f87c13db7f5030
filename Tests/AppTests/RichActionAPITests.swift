import Domain
import Foundation
import PQ
import Testing
import TestSupport

/// Send-notification requests as HubSpot signs and sends them, with the contact's properties (`object.properties`):
/// a mistake in the texts or the channel is answered `FAIL_CONTINUE` with the reason and nothing is queued; a correct
/// one is stored with the properties its placeholders read.
@Suite("HTTP: personalized and multi-channel send-notification actions")
struct RichActionAPITests {
    private func body(callbackID: String, inputs: String, properties: String = #"{"firstname":"Ada","email":"ada@example.com"}"#) -> [UInt8] {
        Array(
            #"""
            {"callbackId":"\#(callbackID)","origin":{"portalId":\#(IngestionTestServer.portalID)},
             "object":{"objectId":501,"objectType":"CONTACT","properties":\#(properties)},"inputFields":\#(inputs)}
            """#.utf8)
    }

    @Test func mistakesAreFailContinueWithTheReasonAndNotQueued() async throws {
        try await IngestionTestServer.with { server in
            let cases: [(inputs: String, reason: String)] = [
                (#"{"content":"Hi {{ contact.firstname"}"#, "never closed"),
                (#"{"content":"Hi {{ deal.amount }}"}"#, "{{ contact.<property> }}"),
                (#"{"channel":"email","content":"Hi"}"#, "an email needs"),
                (#"{"channel":"sms","email_body":"Hi"}"#, "an SMS needs"),
                (#"{"channel":"fax","content":"Hi"}"#, "\"channel\" must be push, email or sms"),
            ]
            for (index, (inputs, reason)) in cases.enumerated() {
                let answer = try await server.send(.sendNotification, body: body(callbackID: "ap-bad-\(index)", inputs: inputs))
                #expect(answer.status == .ok, "\(inputs)")
                let fields = answer.json?["outputFields"] as? [String: String]
                #expect(fields?["hs_execution_state"] == "FAIL_CONTINUE", "\(inputs)")
                #expect(fields?["error_message"]?.contains(reason) == true, "\(inputs): \(fields?["error_message"] ?? "")")
            }
            let actions = try await server.database.client.query("SELECT count(*) FROM events WHERE type = 'hubspot.action.send_notification'")
            #expect(try actions[0].decode(Int64.self, at: 0) == 0)
            let rejections = try await server.database.client.query("SELECT count(*) FROM rejections WHERE source = 'hubspot'")
            #expect(try rejections[0].decode(Int64.self, at: 0) == Int64(cases.count))
        }
    }

    @Test func aPersonalizedEmailIsStoredWithTheContactsProperties() async throws {
        try await IngestionTestServer.with { server in
            let inputs = #"{"channel":"email","email_subject":"Hi {{ contact.firstname | default: \"there\" }}","email_body":"<p>{{ contact.firstname }}</p>"}"#
            let answer = try await server.send(.sendNotification, body: body(callbackID: "ap-good-1", inputs: inputs))
            #expect(answer.status == .ok)
            #expect((answer.json?["outputFields"] as? [String: String])?["hs_execution_state"] != "FAIL_CONTINUE")
            let rows = try await server.database.client.query(
                "SELECT payload FROM events WHERE type = 'hubspot.action.send_notification' AND idempotency_key = 'ap-good-1'")
            let payload = try JSONValue.parse(try #require(rows.first).decode(PQJSONB.self, at: 0).bytes)
            // The properties are in the log with the action: the outbox and any replay render from them.
            #expect(payload["object"]?["properties"]?["firstname"]?.stringValue == "Ada")
            #expect(payload["inputFields"]?["channel"]?.stringValue == "email")
        }
    }
}
