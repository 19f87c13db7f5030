import Domain
import Foundation
import Ingestion
import Testing

@Suite struct HubSpotSignatureTests {
    static let secret = "yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy"
    static let body = Array(
        #"[{"eventId":1,"subscriptionId":12345,"portalId":62515,"occurredAt":1564113600000,"subscriptionType":"contact.creation","attemptNumber":0,"objectId":123,"changeSource":"CRM","changeFlag":"NEW","appId":54321}]"#
            .utf8)

    /// HubSpot's documented test vectors.
    @Test func officialVectors() {
        #expect(HubSpotSignature.v1(secret: Self.secret, body: Self.body) == "232db2615f3d666fe21a8ec971ac7b5402d33b9a925784df3ca654d05f4817de")
        #expect(
            HubSpotSignature.v2(secret: Self.secret, method: "GET", uri: "https://www.example.com/webhook_uri", body: [])
                == "eee2dddcc73c94d699f5e395f4b9d454a069a6855fbfa152e91e88823087200e")
    }

    /// A v3 vector computed independently (Python's hmac and hashlib).
    @Test func v3Vector() {
        let signature = HubSpotSignature.v3(
            secret: Self.secret, method: "POST", uri: "https://hubsignal.example.com/webhooks/hubspot?portal=62515", body: Self.body,
            timestamp: "1795449887000")
        #expect(signature == "DVfo9AJgAUx5FeJd0ERu40q9AsLvcLuS/4imF6kJ8Jo=")
        // Escapes HubSpot decodes before hashing give the same signature.
        #expect(
            HubSpotSignature.v3(
                secret: Self.secret, method: "POST", uri: "https%3A%2F%2Fhubsignal.example.com%2Fwebhooks%2Fhubspot%3Fportal=62515",
                body: Self.body, timestamp: "1795449887000") == signature)
    }

    @Test func verificationChecksSignatureAgeAndVersion() throws {
        let now = Date(timeIntervalSince1970: 1_795_449_887)
        let uri = "https://hubsignal.example.com/webhooks/hubspot?portal=62515"
        let good = HubSpotSignature.v3(secret: Self.secret, method: "POST", uri: uri, body: Self.body, timestamp: "1795449887000")
        func verify(_ headers: HubSpotSignature.Headers, allowV2: Bool = false, at: Date = now) throws(HubSpotSignature.Failure) -> String {
            try HubSpotSignature.verify(
                headers: headers, secret: Self.secret, method: "POST", uri: uri, body: Self.body, allowV2: allowV2, now: at)
        }
        #expect(try verify(.init(signatureV3: good, timestamp: "1795449887000", signature: nil, version: nil)) == "v3")
        #expect(throws: HubSpotSignature.Failure.mismatch("v3")) {
            try verify(.init(signatureV3: good, timestamp: "1795449887001", signature: nil, version: nil))
        }
        #expect(throws: HubSpotSignature.Failure.stale) {
            try verify(.init(signatureV3: good, timestamp: "1795449887000", signature: nil, version: nil), at: now.addingTimeInterval(301))
        }
        let v2 = HubSpotSignature.v2(secret: Self.secret, method: "POST", uri: uri, body: Self.body)
        #expect(throws: HubSpotSignature.Failure.self) { try verify(.init(signatureV3: nil, timestamp: nil, signature: v2, version: "v2")) }
        #expect(try verify(.init(signatureV3: nil, timestamp: nil, signature: v2.uppercased(), version: "v2"), allowV2: true) == "v2")
        let v1 = HubSpotSignature.v1(secret: Self.secret, body: Self.body)
        #expect(throws: HubSpotSignature.Failure.unsupportedVersion("v1")) {
            try verify(.init(signatureV3: nil, timestamp: nil, signature: v1, version: "v1"), allowV2: true)
        }
    }
}

@Suite struct WebhookParserTests {
    @Test func hubSpotDeliveriesSplitIntoValidAndRejectedEvents() throws {
        let body = try JSONValue.parse(
            Array(
                #"""
                [{"eventId":3418880613,"subscriptionId":1859972,"portalId":27356661,"appId":1109808,"occurredAt":1663842379678,
                  "subscriptionType":"contact.propertyChange","attemptNumber":0,"objectId":512,"propertyName":"email",
                  "propertyValue":"ada@example.com","changeSource":"CRM_UI","sourceId":"userId:45678"},
                 {"eventId":567890123,"subscriptionId":234567,"portalId":12345678,"occurredAt":1708986598741,
                  "subscriptionType":"company.creation","objectId":65059681032,"changeFlag":"CREATED"},
                 {"subscriptionType":"contact.creation","objectId":1,"occurredAt":1},
                 {"eventId":9,"subscriptionType":"contact.creation","objectId":1,"occurredAt":"soon"}]
                """#.utf8))
        let result = try HubSpotWebhookParser.parse(body)
        #expect(result.accepted.map(\.type.rawValue) == ["hubspot.webhook.contact.propertyChange", "hubspot.webhook.company.creation"])
        #expect(result.accepted[0].stream == "hubspot-contact:512")
        #expect(result.accepted[0].idempotencyKey == "1859972:3418880613:1663842379678:512")
        #expect(result.accepted[0].occurredAt == Date(timeIntervalSince1970: 1_663_842_379.678))
        #expect(result.rejected.map(\.index) == [2, 3])
        #expect(throws: IngestionError.self) { try HubSpotWebhookParser.parse(.object([:])) }
    }

    @Test func workflowActionsNeedACallbackAnObjectAndInputs() throws {
        let body = try JSONValue.parse(
            Array(
                #"""
                {"callbackId":"ap-47355542-1589400750477-3-0",
                 "origin":{"portalId":47355542,"actionDefinitionId":201903771,"actionDefinitionVersion":4},
                 "context":{"workflowId":1640937852,"actionId":3,"source":"WORKFLOWS"},
                 "object":{"objectId":108456792064,"objectType":"CONTACT"},
                 "fields":{"content":"test message"},"inputFields":{"content":"test message"}}
                """#.utf8))
        let event = try HubSpotWorkflowAction.sendNotification.parse(body, receivedAt: Date())
        #expect(event.type.rawValue == "hubspot.action.send_notification")
        #expect(event.idempotencyKey == "ap-47355542-1589400750477-3-0")
        #expect(event.stream == "hubspot-contact:108456792064")
        let noMessage = try JSONValue.parse(Array(#"{"callbackId":"c","object":{"objectId":1},"inputFields":{"title":"x"}}"#.utf8))
        #expect(throws: IngestionError.self) { try HubSpotWorkflowAction.sendNotification.parse(noMessage, receivedAt: Date()) }
        #expect(throws: IngestionError.self) {
            try HubSpotWorkflowAction.editTags.parse(try JSONValue.parse(Array(#"{"object":{"objectId":1}}"#.utf8)), receivedAt: Date())
        }
    }

    @Test("workflow inputs: template or content, a valid url, and edit-tags' tags as a flat JSON object")
    func workflowActionInputs() throws {
        func parse(_ action: HubSpotWorkflowAction, _ inputs: String) throws(IngestionError) -> InboundEvent {
            let body = try! JSONValue.parse(Array(#"{"callbackId":"c","object":{"objectId":1},"inputFields":\#(inputs)}"#.utf8))
            return try action.parse(body, receivedAt: Date())
        }
        func mistake(_ action: HubSpotWorkflowAction, _ inputs: String) -> String? {
            do {
                _ = try parse(action, inputs)
                return nil
            } catch {
                return error.code == "invalid_action" ? error.message : "wrong code \(error.code)"
            }
        }
        _ = try parse(.sendNotification, #"{"template_id":"be4a8044-bbd6-11e4-a581-000c2940e62c"}"#)
        _ = try parse(.sendNotification, #"{"heading":"Hi","content":"There","url":"https://example.com/x","external_id":"u1","app":"ios"}"#)
        #expect(mistake(.sendNotification, #"{"heading":"Only a heading"}"#)?.contains("content") == true)
        #expect(mistake(.sendNotification, #"{"template_id":"welcome"}"#)?.contains("UUID") == true)
        #expect(mistake(.sendNotification, #"{"content":"x","url":"javascript:alert(1)"}"#)?.contains("url") == true)
        let expected: [String: String?] = ["plan": "pro", "score": "7", "vip": "true", "old": nil, "blank": nil]
        #expect(try HubSpotWorkflowAction.tags(["tags": .string(#"{"plan":"pro","score":7,"vip":true,"old":null,"blank":""}"#)]) == expected)
        #expect(mistake(.editTags, #"{"tags":"{plan: pro}"}"#)?.contains("not valid JSON") == true)
        #expect(mistake(.editTags, #"{"tags":"[1,2]"}"#)?.contains("JSON object") == true)
        #expect(mistake(.editTags, #"{"tags":"{\"a\":{\"b\":1}}"}"#)?.contains("nested") == true)
        #expect(mistake(.editTags, #"{"tags":"{}"}"#)?.contains("empty") == true)
        #expect(mistake(.editTags, #"{"tag_key":"vip"}"#)?.contains("required") == true)
    }

    @Test func oneSignalEventsInFlatAndDottedForms() throws {
        let flat = try JSONValue.parse(
            Array(
                #"""
                {"event_id":"a1b2c3d4-e5f6-7890-abcd-ef1234567890","kind":"message.push.clicked","timestamp":1708559115,
                 "datetime":"2024-02-21T23:45:15.228Z","app_id":"app","external_id":"user_12345","onesignal_id":"c3d4",
                 "failure_reason":"","message_id":"f3c9cd09"}
                """#.utf8))
        let event = try OneSignalEventParser.parse(flat, receivedAt: Date())
        #expect(event.type.rawValue == "onesignal.message.push.clicked")
        #expect(event.stream == "user:user_12345")
        #expect(event.idempotencyKey == "a1b2c3d4-e5f6-7890-abcd-ef1234567890")
        #expect(event.occurredAt == ISO8601Timestamp.parse("2024-02-21T23:45:15.228Z"))
        let dotted = try JSONValue.parse(
            Array(#"{"event.id":"e-2","event.kind":"message.email.opened","event.timestamp":"1708559115","event.external_id":"","event.onesignal_id":"os-9"}"#.utf8))
        let second = try OneSignalEventParser.parse(dotted, receivedAt: Date())
        #expect(second.stream == "onesignal-user:os-9")
        #expect(second.occurredAt == Date(timeIntervalSince1970: 1_708_559_115))
        #expect(throws: IngestionError.self) {
            try OneSignalEventParser.parse(try JSONValue.parse(Array(#"{"event_id":"x","kind":"drop table"}"#.utf8)), receivedAt: Date())
        }
    }
}
