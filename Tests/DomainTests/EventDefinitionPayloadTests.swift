import Domain
import Foundation
import Testing

/// The event definition payloads' JSON (users query it in `events.payload`) and what they decode from.
@Suite struct EventDefinitionPayloadTests {
    @Test func definitionRecorded() throws {
        let created = HubSpotEventDefinitionRecorded(
            eventName: "pe1_order_completed", definitionID: "501", properties: ["total": "number"], existed: false)
        #expect(
            try created.json()
                == .object([
                    "eventName": .string("pe1_order_completed"), "definitionId": .string("501"),
                    "properties": .object(["total": .string("number")]),
                ]))
        #expect(try HubSpotEventDefinitionRecorded(json: created.json()) == created)
        let found = HubSpotEventDefinitionRecorded(eventName: "pe1_signed_up", definitionID: nil, properties: [:], existed: true)
        #expect(
            try found.json()
                == .object(["eventName": .string("pe1_signed_up"), "properties": .object([:]), "existed": .bool(true)]))
        // A hand-written event with the name only.
        let bare = try HubSpotEventDefinitionRecorded(json: JSONValue.parse(Array(#"{"eventName":"pe1_x"}"#.utf8)))
        #expect(bare == HubSpotEventDefinitionRecorded(eventName: "pe1_x", definitionID: nil, properties: [:], existed: false))
    }

    @Test func propertyAddedAndRefused() throws {
        let added = HubSpotEventPropertyAdded(eventName: "pe1_order_completed", property: "coupon", type: "string")
        #expect(
            try added.json()
                == .object(["eventName": .string("pe1_order_completed"), "property": .string("coupon"), "type": .string("string")]))
        #expect(try HubSpotEventPropertyAdded(json: added.json()) == added)
        let refused = HubSpotEventDefinitionRefused(eventName: "pe1_order_completed", property: nil, reason: "forbidden (403)")
        #expect(try refused.json() == .object(["eventName": .string("pe1_order_completed"), "reason": .string("forbidden (403)")]))
        #expect(try HubSpotEventDefinitionRefused(json: refused.json()) == refused)
    }
}
