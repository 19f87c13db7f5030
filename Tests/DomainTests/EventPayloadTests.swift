import Domain
import Foundation
import Testing

/// Each payload encodes to exactly the JSON its writer built by hand before the payload types existed (the
/// dictionaries below are copied from those writers), decodes back to itself, and decodes what hand-written events
/// (tests, older logs) hold.
@Suite struct EventPayloadTests {
    /// Encodes `payload`, checks it against `expected`, that its text parses to the same value, and that it decodes back.
    func check<Payload: EventPayload>(_ payload: Payload, is expected: [String: JSONValue]) throws {
        let json = try payload.json()
        #expect(json == .object(expected), "\(Payload.self)")
        #expect(try JSONValue.parse(try payload.serialized()) == .object(expected))
        #expect(try Payload(json: json) == payload, "\(Payload.self) round trip")
        // Foundation's coders agree with the JSONValue ones.
        let foundation = try JSONValue.parse(Array(try JSONEncoder().encode(payload)))
        #expect(foundation == .object(expected), "\(Payload.self) through JSONEncoder")
        #expect(try JSONDecoder().decode(Payload.self, from: Data(try payload.serialized())) == payload)
    }

    func decode<Payload: EventPayload>(_ type: Payload.Type, _ text: String) throws -> Payload {
        try Payload(json: JSONValue.parse(Array(text.utf8)))
    }

    @Test func everyHubSignalTypeHasOnePayload() {
        let types: [any EventPayload.Type] = [
            HubSpotContactSynced.self, HubSpotCompanySynced.self, HubSpotAssociationSynced.self, HubSpotObjectSynced.self,
            HubSpotDeliveryFailed.self, HubSpotEventFailed.self, HubSpotActionCompleted.self, HubSpotActionCompletionFailed.self,
            OneSignalUserSynced.self, OneSignalDeliveryFailed.self, OneSignalSegmentCreated.self, OneSignalNotificationRequested.self,
            OneSignalNotificationSent.self, OneSignalNotificationFailed.self, PersonErased.self, ReplayRequested.self,
            HubSpotEventDefinitionRecorded.self, HubSpotEventPropertyAdded.self, HubSpotEventDefinitionRefused.self,
            HubSpotAppInstalled.self, HubSpotPropertiesRead.self,
            OneSignalTagsEdited.self, OneSignalTagsEditFailed.self,
        ]
        #expect(Set(types.map { $0.eventType }) == Set(EventType.hubSignalTypes))
        #expect(types.count == EventType.hubSignalTypes.count)
    }

    // MARK: - HubSpot

    @Test func contactAndCompanySynced() throws {
        let acknowledged: [String: JSONValue] = ["email": .string("ada@example.com"), "plan": .string("pro"), "seats": .int(3)]
        try check(
            HubSpotContactSynced(id: "c_1", hubSpotID: "501", properties: acknowledged, sent: ["plan", "seats"], created: true),
            is: [
                "contactId": .string("c_1"), "hubspotId": .string("501"), "properties": .object(acknowledged),
                "sent": .array([.string("plan"), .string("seats")]), "created": .bool(true),
            ])
        try check(
            HubSpotContactSynced(
                id: "c_1", hubSpotID: "501", properties: [:], sent: [], created: false, dropped: ["nested": "an object"]),
            is: [
                "contactId": .string("c_1"), "hubspotId": .string("501"), "properties": .object([:]), "sent": .array([]),
                "created": .bool(false), "dropped": .object(["nested": .string("an object")]),
            ])
        try check(
            HubSpotCompanySynced(id: "g-1", hubSpotID: "9001", properties: ["name": .string("Acme")], sent: ["name"], created: false),
            is: [
                "groupId": .string("g-1"), "hubspotId": .string("9001"), "properties": .object(["name": .string("Acme")]),
                "sent": .array([.string("name")]), "created": .bool(false),
            ])
        // Hand-written events carry only the ids: no properties means "acknowledged values unknown", not "none".
        let bare = try decode(HubSpotContactSynced.self, #"{"contactId":"c_9","hubspotId":"77"}"#)
        #expect(bare.properties == nil && bare.sent == [] && !bare.created && bare.dropped == [:])
        #expect(try decode(HubSpotCompanySynced.self, #"{"groupId":"g-1","hubspotId":"9001"}"#).properties == nil)
        #expect(throws: DecodingError.self) { try decode(HubSpotContactSynced.self, #"{"contactId":"c_9"}"#) }
    }

    @Test func associationSynced() throws {
        try check(
            HubSpotAssociationSynced(contactID: "c_1", companyID: "co_1", groupID: "g-1", hubSpotContactID: "501", hubSpotCompanyID: "9001"),
            is: [
                "contactId": .string("c_1"), "companyId": .string("co_1"), "groupId": .string("g-1"),
                "hubspotContactId": .string("501"), "hubspotCompanyId": .string("9001"),
            ])
        let bare = try decode(HubSpotAssociationSynced.self, #"{"contactId":"c_1","groupId":"g-1"}"#)
        #expect(bare.companyID == "" && bare.hubSpotContactID == "")
    }

    @Test func objectSynced() throws {
        try check(
            HubSpotObjectSynced(
                position: 42, rule: "orders", objectType: "2-123", hubSpotID: "777", created: true, properties: ["amount", "order_id"],
                search: ["order_id": "o-1"], searchKey: "order_id=o-1", contactID: "c_1",
                associatedWith: .init(objectType: "contacts", hubSpotID: "501", label: nil)),
            is: [
                "position": .int(42), "rule": .string("orders"), "objectType": .string("2-123"), "hubspotId": .string("777"),
                "created": .bool(true), "properties": .array([.string("amount"), .string("order_id")]),
                "search": .object(["order_id": .string("o-1")]), "searchKey": .string("order_id=o-1"), "contactId": .string("c_1"),
                // The default association's label is written as null.
                "associatedWith": .object(["objectType": .string("contacts"), "hubspotId": .string("501"), "label": .null]),
            ])
        try check(
            HubSpotObjectSynced(
                position: 43, rule: "orders", objectType: "2-123", hubSpotID: "778", created: false, properties: [],
                search: [:], searchKey: "", contactID: nil,
                associatedWith: .init(objectType: "companies", hubSpotID: "9", label: "Buyer")),
            is: [
                "position": .int(43), "rule": .string("orders"), "objectType": .string("2-123"), "hubspotId": .string("778"),
                "created": .bool(false), "properties": .array([]), "search": .object([:]), "searchKey": .string(""),
                "associatedWith": .object(["objectType": .string("companies"), "hubspotId": .string("9"), "label": .string("Buyer")]),
            ])
        try check(
            HubSpotObjectSynced(
                position: 44, rule: "r", objectType: "t", hubSpotID: "1", created: false, properties: [], search: [:], searchKey: "",
                contactID: nil, associatedWith: nil),
            is: [
                "position": .int(44), "rule": .string("r"), "objectType": .string("t"), "hubspotId": .string("1"), "created": .bool(false),
                "properties": .array([]), "search": .object([:]), "searchKey": .string(""),
            ])
    }

    @Test func deliveryFailedNamesAContactOrACompany() throws {
        try check(
            HubSpotDeliveryFailed(subject: .contact(id: "c_1"), reason: "HubSpot refused it", properties: ["email", "plan"]),
            is: [
                "contactId": .string("c_1"), "reason": .string("HubSpot refused it"),
                "properties": .array([.string("email"), .string("plan")]),
            ])
        try check(
            HubSpotDeliveryFailed(subject: .company(groupID: "g-1"), reason: "gave up", properties: []),
            is: ["groupId": .string("g-1"), "reason": .string("gave up"), "properties": .array([])])
        let bare = try decode(HubSpotDeliveryFailed.self, #"{"groupId":"g-2"}"#)
        #expect(bare.subject == .company(groupID: "g-2") && bare.reason == "unknown" && bare.properties == [])
        #expect(try decode(HubSpotDeliveryFailed.self, #"{"contactId":"c","groupId":"g"}"#).subject == .contact(id: "c"))
        #expect(throws: DecodingError.self) { try decode(HubSpotDeliveryFailed.self, #"{"reason":"x"}"#) }
    }

    @Test func eventFailedNamesAnEventOrACustomObject() throws {
        try check(
            HubSpotEventFailed(position: 7, subject: .event(name: "pe123_signed_up"), reason: "refused", contactID: "c_1"),
            is: ["position": .int(7), "eventName": .string("pe123_signed_up"), "reason": .string("refused"), "contactId": .string("c_1")])
        try check(
            HubSpotEventFailed(position: 8, subject: .customObject(rule: "orders", objectType: "2-123"), reason: "gave up", contactID: nil),
            is: ["position": .int(8), "rule": .string("orders"), "objectType": .string("2-123"), "reason": .string("gave up")])
    }

    @Test func actionCompletion() throws {
        let fields = ["hs_execution_state": "SUCCESS", "notification_id": "n-1", "recipients": "1"]
        try check(
            HubSpotActionCompleted(callbackID: "cb-1", outputFields: fields),
            is: ["callbackId": .string("cb-1"), "outputFields": .object(fields.mapValues(JSONValue.string))])
        try check(
            HubSpotActionCompletionFailed(callbackID: "cb-1", reason: "expired callback"),
            is: ["callbackId": .string("cb-1"), "reason": .string("expired callback")])
        try check(
            HubSpotActionCompletionFailed(callbackID: "cb-1", reason: "given up", isExpired: true),
            is: ["callbackId": .string("cb-1"), "reason": .string("given up"), "expired": .bool(true)])
    }

    // MARK: - OneSignal

    @Test func userSyncedAndFailed() throws {
        let tags: [String: JSONValue] = ["plan": .string("pro"), "old": .null]
        try check(
            OneSignalUserSynced(contactID: "c_1", externalID: "u-1", app: "default", tags: tags, sent: ["old", "plan"], created: false),
            is: [
                "contactId": .string("c_1"), "externalId": .string("u-1"), "app": .string("default"), "tags": .object(tags),
                "sent": .array([.string("old"), .string("plan")]), "created": .bool(false),
            ])
        try check(
            OneSignalUserSynced(
                contactID: "c_1", externalID: "u-1", app: "eu", tags: [:], sent: [], created: true, oneSignalID: "os-1"),
            is: [
                "contactId": .string("c_1"), "externalId": .string("u-1"), "app": .string("eu"), "tags": .object([:]),
                "sent": .array([]), "created": .bool(true), "onesignalId": .string("os-1"),
            ])
        let bare = try decode(OneSignalUserSynced.self, #"{"contactId":"c_1","tags":{"plan":"pro"}}"#)
        #expect(bare.app == "default" && bare.externalID == "" && bare.tags == ["plan": .string("pro")] && bare.oneSignalID == nil)
        try check(
            OneSignalDeliveryFailed(contactID: "c_1", app: "default", reason: "tag limit", tags: ["a", "b"]),
            is: [
                "contactId": .string("c_1"), "app": .string("default"), "reason": .string("tag limit"),
                "tags": .array([.string("a"), .string("b")]),
            ])
        let failed = try decode(OneSignalDeliveryFailed.self, #"{"contactId":"c_1","reason":"tag limit reached"}"#)
        #expect(failed.app == "default" && failed.reason == "tag limit reached" && failed.tags == [])
    }

    @Test func segmentCreated() throws {
        try check(
            OneSignalSegmentCreated(app: "default", audience: "vip", tag: "aud_vip", segmentID: "s-1"),
            is: ["app": .string("default"), "audience": .string("vip"), "tag": .string("aud_vip"), "segmentId": .string("s-1")])
        try check(
            OneSignalSegmentCreated(app: "default", audience: "vip", tag: "aud_vip", existed: true),
            is: ["app": .string("default"), "audience": .string("vip"), "tag": .string("aud_vip"), "existed": .bool(true)])
        try check(
            OneSignalSegmentCreated(app: "default", audience: "vip", tag: "aud_vip"),
            is: ["app": .string("default"), "audience": .string("vip"), "tag": .string("aud_vip")])
    }

    @Test func notifications() throws {
        let request = OneSignalNotificationRequested.Request(
            externalID: "u-1", idempotencyKey: "k-1", targetChannel: "push", templateID: "t-1", heading: "Hi", content: nil, url: "https://x")
        // As the writer built it: the request's fields, then the action's inputs under their own names, then callbackId.
        let requested: [String: JSONValue] = [
            "externalId": .string("u-1"), "app": .string("default"), "idempotencyKey": .string("k-1"), "targetChannel": .string("push"),
            "hubspotObjectId": .string("501"), "template_id": .string("t-1"), "heading": .string("Hi"), "url": .string("https://x"),
            "callbackId": .string("cb-1"),
        ]
        try check(OneSignalNotificationRequested(callbackID: "cb-1", app: "default", hubSpotObjectID: "501", request: request), is: requested)

        var sent = requested
        sent["notificationId"] = .string("n-1")
        sent["recipients"] = .int(1)
        sent["replayed"] = .bool(false)
        try check(
            OneSignalNotificationSent(
                callbackID: "cb-1", app: "default", hubSpotObjectID: "501", request: request, notificationID: "n-1", recipients: 1,
                replayed: false, errors: []),
            is: sent)
        sent["recipients"] = .int(0)
        sent["errors"] = .array([.string("invalid alias")])
        try check(
            OneSignalNotificationSent(
                callbackID: "cb-1", app: "default", hubSpotObjectID: "501", request: request, notificationID: "n-1", recipients: 0,
                replayed: false, errors: ["invalid alias"]),
            is: sent)

        var failed = requested
        failed["reason"] = .string("OneSignal sent nothing")
        try check(
            OneSignalNotificationFailed(
                callbackID: "cb-1", app: "default", hubSpotObjectID: "501", request: request, reason: "OneSignal sent nothing"),
            is: failed)
        try check(
            OneSignalNotificationFailed(callbackID: "cb-2", app: "eu", hubSpotObjectID: "502", request: nil, reason: "no external id"),
            is: ["app": .string("eu"), "hubspotObjectId": .string("502"), "reason": .string("no external id"), "callbackId": .string("cb-2")])
        try check(
            OneSignalNotificationFailed(
                callbackID: "cb-3", app: "eu", hubSpotObjectID: "503", request: nil, reason: "not sent: too old", expiredAfterAttempts: 2),
            is: [
                "app": .string("eu"), "hubspotObjectId": .string("503"), "reason": .string("not sent: too old"), "expired": .bool(true),
                "attempts": .int(2), "callbackId": .string("cb-3"),
            ])
    }

    // MARK: - Operations

    @Test func erasureAndReplay() throws {
        try check(
            PersonErased(erasureID: "e-1", contactIDs: ["c_1", "c_2"], events: 12),
            is: ["erasureId": .string("e-1"), "contactIds": .array([.string("c_1"), .string("c_2")]), "events": .int(12)])
        try check(
            ReplayRequested(destination: .hubspot, contactIDs: ["c_1"], reason: "hubsignal replay"),
            is: ["destination": .string("hubspot"), "contactIds": .array([.string("c_1")]), "reason": .string("hubsignal replay")])
        try check(
            ReplayRequested(destination: .onesignal, app: "eu", contactIDs: [], reason: "why"),
            is: ["destination": .string("onesignal"), "contactIds": .array([]), "reason": .string("why"), "app": .string("eu")])
        #expect(throws: DecodingError.self) { try decode(ReplayRequested.self, #"{"destination":"mailchimp","contactIds":[]}"#) }
    }
}
